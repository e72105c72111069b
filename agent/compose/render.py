"""Jinja2 environment over rules/templates/: a missing variable is an error, never a blank in a letter."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2


class TemplateError(Exception):
    """A template is missing, malformed, or needs a variable that was not given."""


@lru_cache(maxsize=8)
def template_env(rules_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(rules_dir) / "templates")),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(rules_dir: Path, name: str, variables: Mapping[str, Any]) -> str:
    """Render one template file, turning every Jinja failure into a TemplateError that names the template."""
    env = template_env(Path(rules_dir))
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound:
        raise TemplateError(f"template {name!r} not found in {Path(rules_dir) / 'templates'}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template {exc.name or name!r}, line {exc.lineno}: {exc.message}") from None
    return render_template(template, name, variables)


def render_template(template: jinja2.Template, name: str, variables: Mapping[str, Any]) -> str:
    """Render a compiled template (a file, or a part of a letter template), every Jinja failure a TemplateError."""
    try:
        # The context is passed as one mapping, not as keywords: a variable named `self` must not collide
        # with the method's own parameter.
        return template.render(dict(variables))
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {name!r}: {exc.name!r} not found") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"template {name!r}: {exc.message} (pass it with --var NAME=VALUE)") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template {exc.name or name!r}, line {exc.lineno}: {exc.message}") from None
