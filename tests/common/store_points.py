"""The metric points of a run store's tracker journal, as the shipper reads them.

Since schema 4 a training loop's reports are chunks of points in
report_chunks (n records of three little-endian doubles: step, value, time
in seconds), and a journal metrics event names them ({"report_chunks":
[{"chunk", "key"}]}) instead of copying them ({"points": [...]}).
"""
import struct


def chunk(conn, chunk_id):
    """[(step, value, ts_seconds)] of one chunk."""
    row = conn.execute("SELECT points FROM report_chunks WHERE id = ?", (chunk_id,)).fetchone()
    if not row:
        return []
    blob = row[0]
    return [(int(s), v, t) for s, v, t in struct.iter_unpack("<ddd", blob)]


def journal_points(conn, payload):
    """[{key, value, step, ts (ms)}] of a metrics event's payload (a dict)."""
    if "points" in payload:
        return payload["points"]
    out = []
    for ref in payload.get("report_chunks", []):
        for step, value, ts in chunk(conn, ref["chunk"]):
            out.append({"key": ref["key"], "value": value, "step": step, "ts": int(ts * 1000)})
    return out


def stored_metrics(conn):
    """[(run_id, node, name, value, step)] of every metric the store holds:
    final metrics and an older store's report rows (metrics), then the
    report chunks' points."""
    out = list(conn.execute(
        "SELECT e.run_id, e.node, m.name, m.value, m.step FROM metrics m"
        " JOIN executions e ON e.id = m.execution_id"))
    for run, node, name, cid in conn.execute(
            "SELECT e.run_id, e.node, c.name, c.id FROM report_chunks c"
            " JOIN executions e ON e.id = c.execution_id ORDER BY c.id"):
        out.extend((run, node, name, v, s) for s, v, _ in chunk(conn, cid))
    return out
