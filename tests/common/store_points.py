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
