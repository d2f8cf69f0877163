"""Sphinx extension: a pybtex style ``author_year`` whose bibliography labels read as the text cites.

The text cites with sphinxcontrib-bibtex's ``author_year`` reference style ("Arpit et al.,
2017", "Gu and Tresp, 2019", "Krizhevsky, 2009"); pybtex's own styles label the bibliography
"[AJB+17]" or "[1]". This style is pybtex's ``plain`` (sorted by author, year, title) with
labels formatted as the citations are, so a reader finds a citation's entry by its label.
"""

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _last_name(person):
    return " ".join(person.last_names).replace("{", "").replace("}", "")


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = []
        for entry in sorted_entries:
            persons = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_last_name(p) for p in persons]
            if len(names) > 2:
                who = f"{names[0]} et al."
            elif names:
                who = " and ".join(names)
            else:
                who = entry.fields.get("title", entry.key)
            labels.append(f"{who}, {entry.fields.get('year', 'n.d.')}")
        # Two entries with the same label get a, b, ... after the year.
        for label in set(labels):
            same = [i for i, other in enumerate(labels) if other == label]
            if len(same) > 1:
                for letter, i in zip("abcdefghijklmnopqrstuvwxyz", same):
                    labels[i] = label + letter
        return iter(labels)


class AuthorYearStyle(PlainStyle):
    default_label_style = "author_year"


register_plugin("pybtex.style.labels", "author_year", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
