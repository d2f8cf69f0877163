"""Text that a chapter shows about its own run: the note box and the settings table.

Everything here is read from the run's config and cached metadata, never typed in.
"""
from __future__ import annotations


def run_note(results, cfg, data_labels):
    """The note at the top of a chapter: profile, data, seeds, device and wall time."""
    lines = [f"Executed with profile **{cfg['profile']}**; data: {', '.join(sorted(set(data_labels)))}."]
    for name, r in results.items():
        meta = r.meta
        origin = "read from the cache" if r.from_cache else "computed during this execution"
        lines.append(f"- `{name}`: {origin}; computed on {meta['device']} in {meta['wall_time_s']:.1f} s on "
                     f"{meta['date'][:10]} (torch {meta['torch_version']}, memo_utils {meta['package_version']}).")
    return "\n".join(lines)


def settings_table(cfg, paper_settings, notes):
    """Our settings beside the paper's, with the reason for each difference."""
    rows = ["| parameter | paper | this run | why |", "|---|---|---|---|"]
    for name, paper_value in paper_settings.items():
        rows.append(f"| `{name}` | {paper_value} | {cfg[name]} | {notes.get(name, '')} |")
    return "\n".join(rows)
