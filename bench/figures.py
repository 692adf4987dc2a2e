"""The benchmarks' headline figures, and `make bench`: run every script in bench/, print one table.

A script reports each headline figure with `figure(...)`: it prints a readable line and, when run
by this module, hands the figure over for the combined table.

    .venv/bin/python bench/figures.py            # every script, then one table (what `make bench` runs)
    .venv/bin/python bench/figures.py sync.py    # only some of them

The table is also written to var/bench-latest.md (Markdown, for the README's Benchmarks section).
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
FIGURES_FILE_VARIABLE = "BENCH_FIGURES_FILE"


def figure(benchmark: str, measure: str, value: str, goal: str = "", met: bool | None = None) -> None:
    """Print one headline figure; `met` says whether `goal` was reached (None: no goal)."""
    verdict = "" if met is None else (" (met)" if met else " (NOT met)")
    print(f"FIGURE {benchmark} | {measure}: {value}" + (f" | goal {goal}{verdict}" if goal else ""), flush=True)
    target = os.environ.get(FIGURES_FILE_VARIABLE)
    if target:
        row = {"benchmark": benchmark, "measure": measure, "value": value, "goal": goal, "met": met}
        with open(target, "a", encoding="utf-8") as file:
            file.write(json.dumps(row) + "\n")


def _scripts(names: list[str]) -> list[Path]:
    if names:
        return [BENCH_DIR / name for name in names]
    return sorted(path for path in BENCH_DIR.glob("*.py") if path.name != Path(__file__).name)


def _machine() -> str:
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    cpu = f" ({models[0]})" if models else ""
    return (f"{platform.node()}: {os.cpu_count()} cores{cpu}, {memory_gib:.0f} GiB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")  # fmt: skip


def main(names: list[str]) -> int:
    failed = []
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl", encoding="utf-8") as collected:
        env = {**os.environ, FIGURES_FILE_VARIABLE: collected.name}
        started = time.monotonic()
        for script in _scripts(names):
            print(f"== {script.name}", flush=True)
            if subprocess.run([sys.executable, str(script)], env=env, check=False).returncode != 0:
                failed.append(script.name)
        rows = [json.loads(line) for line in collected.read().splitlines() if line.strip()]
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {_machine()}, "
        f"{time.monotonic() - started:.0f} s in all.",
        "",
        "| benchmark | measure | figure | goal | met |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        met = "" if row["met"] is None else ("yes" if row["met"] else "**no**")
        lines.append(f"| `{row['benchmark']}` | {row['measure']} | {row['value']} | {row['goal']} | {met} |")
    table = "\n".join(lines) + "\n"
    print("\n" + table)
    latest = BENCH_DIR.parent / "var" / "bench-latest.md"
    latest.parent.mkdir(exist_ok=True)
    latest.write_text(table, encoding="utf-8")
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
