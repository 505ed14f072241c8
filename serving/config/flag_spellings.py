"""Old flag spellings that keep working for one release, hidden from `--help`.

Every `tfxp` command (and `python -m serving`) adds its renamed flags through `add_flag`, so a
script still using `--models_root` or `tfxp skew --serving-dir` runs, with a one-line notice on
stderr naming the new spelling. It sits in serving/config, the lowest layer every CLI may import.
"""
import argparse
import sys


class _DeprecatedSpelling:
    """Mixed into the hidden option's own action class: notes the old spelling once per parse,
    then stores the value exactly as the new spelling would."""

    new_spelling = ""

    def __call__(self, parser, namespace, values, option_string=None):
        noted = getattr(namespace, "_deprecated_spellings_noted", None)
        if noted is None:
            noted = set()
            setattr(namespace, "_deprecated_spellings_noted", noted)
        if option_string not in noted:
            noted.add(option_string)
            sys.stderr.write(f"{parser.prog}: {option_string} is deprecated and goes in the next "
                             f"release; use {self.new_spelling}\n")
        super().__call__(parser, namespace, values, option_string)


def add_flag(container, new: str, *old: str, **kwargs) -> argparse.Action:
    """`container.add_argument(new, **kwargs)` plus one hidden option per old spelling that sets
    the same destination and prints a deprecation notice. Returns the shown option's action."""
    shown = container.add_argument(new, **kwargs)
    for spelling in old:
        hidden = container.add_argument(spelling, **dict(kwargs, dest=shown.dest, required=False,
                                                         help=argparse.SUPPRESS))
        hidden.__class__ = type(f"Deprecated{type(hidden).__name__}",
                                (_DeprecatedSpelling, type(hidden)), {"new_spelling": new})
    return shown
