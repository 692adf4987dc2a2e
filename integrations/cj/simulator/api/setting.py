"""CJ's Setting section: the account's settings (setting/get)."""

from typing import Any

from integrations.cj.simulator.api.wire import SimRequest
from integrations.cj.simulator.state import Simulator


def setting_get(sim: Simulator, request: SimRequest) -> dict[str, Any]:
    return {
        "openId": sim.config.open_id,
        "openName": "Simulator",
        "openEmail": "simulator@example.test",
        "setting": {"quotaLimits": [], "qpsLimit": sim.config.qps},
        "root": "GENERAL",
        "isSandbox": 0,
    }
