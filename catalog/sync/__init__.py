"""Product sync from CJ: the bulk write path (`upsert`), the runs (`runs`: full, incremental,
single product, resumable, one at a time) and the stock refresh (`stock`)."""
