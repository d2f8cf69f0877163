"""The note a chapter shows about its own run, read from its config and cached metadata, never typed in."""
from __future__ import annotations

from .chapter import cell_id


def run_note(results, cfg, overridden=()):
    """Profile, data, device and wall time of each cached cell."""
    labels = sorted({label for part_labels in results.data_labels().values() for label in part_labels})
    lines = [f"Executed with profile **{cfg['profile']}**"
             + (f", overriding {', '.join(overridden)}" if overridden else "") + f"; data: {', '.join(labels)}."]
    for part, cell, r in results:
        meta = r.meta
        origin = "read from the cache" if r.from_cache else "computed during this execution"
        lines.append(f"- `{cell_id(part, cell)}`: {origin}; computed on {meta['device']} in {meta['wall_time_s']:.1f} s "
                     f"on {meta['date'][:10]} (torch {meta['torch_version']}, memo_utils {meta['package_version']}).")
    return "\n".join(lines)
