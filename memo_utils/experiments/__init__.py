"""One module per chapter: ``config(profile, **overrides)``, ``run(config)``, ``claims(results, config)``."""
from importlib import import_module

CHAPTERS = ("easy_examples", "loss_sensitivity")


def get(name):
    if name not in CHAPTERS:
        from ..errors import ConfigError
        raise ConfigError(f"experiment={name!r} is not allowed: choose one of {', '.join(CHAPTERS)}")
    return import_module(f"{__name__}.{name}")
