"""Regenerate network/allauth_messages.py: every msgid of the allauth pages, forms and emails we use."""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import allauth
from babel.messages.pofile import read_po
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation.template import templatize

SKIPPED_TEMPLATES = ("webauthn", "phone", "login_code", "signup_by_passkey")
HEADER = '''"""The msgids of django-allauth's pages, forms and emails, so that our Vietnamese catalog translates them.

allauth ships no Vietnamese translation. makemessages only reads our own sources, so the strings of the
allauth templates and modules we use (sign-in, sign-up, verification, password reset, MFA) are listed here,
exactly as allauth spells them. This module is never imported; it only feeds makemessages. Regenerate it
after upgrading allauth (see docs/operations.md, "Translations").
"""

from django.utils.translation import gettext_noop, ngettext_lazy, pgettext_lazy

'''


class Command(BaseCommand):
    help = "Regenerate network/allauth_messages.py from the installed django-allauth (then run makemessages)."

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(allauth.__file__).parent
        with tempfile.TemporaryDirectory() as work:
            sources: list[str] = []
            for folder in ("account", "mfa"):
                for template in sorted((root / "templates" / folder).rglob("*")):
                    if template.suffix not in (".html", ".txt") or any(s in str(template) for s in SKIPPED_TEMPLATES):
                        continue
                    out = Path(work) / f"{len(sources)}.py"
                    out.write_text(templatize(template.read_text(), origin=str(template)))
                    sources.append(str(out))
                sources += [str(p) for p in sorted((root / folder).rglob("*.py"))
                            if "tests" not in p.parts and "migrations" not in p.parts]
            sources += [str(p) for p in sorted((root / "core").rglob("*.py")) if "tests" not in p.parts]
            pot = Path(work) / "allauth.pot"
            xgettext = shutil.which("xgettext")
            if xgettext is None:
                raise CommandError("xgettext is missing: apt-get install gettext")
            # Fixed arguments and allauth's own files: nothing from a user reaches this command line.
            subprocess.run([xgettext, "--language=Python", "--from-code=UTF-8", "--no-location", "-o", str(pot),  # noqa: S603
                            "--keyword=gettext_noop", "--keyword=gettext_lazy", "--keyword=_", "--keyword=gettext",
                            "--keyword=ngettext:1,2", "--keyword=ngettext_lazy:1,2", "--keyword=pgettext:1c,2",
                            "--keyword=pgettext_lazy:1c,2", *sources], check=True)
            text = pot.read_text().replace("nplurals=INTEGER; plural=EXPRESSION;", "nplurals=2; plural=(n != 1);")
            pot.write_text(text)
            with pot.open("rb") as handle:
                catalog = read_po(handle)
        singles, plurals = [], []
        for message in catalog:
            if not message.id:
                continue
            if isinstance(message.id, tuple | list):
                plurals.append(f"    ngettext_lazy({json.dumps(message.id[0], ensure_ascii=False)}, "
                               f"{json.dumps(message.id[1], ensure_ascii=False)}, 1),")
            elif message.context:
                singles.append(f"    pgettext_lazy({json.dumps(message.context)}, "
                               f"{json.dumps(message.id, ensure_ascii=False)}),")
            else:
                singles.append(f"    gettext_noop({json.dumps(message.id, ensure_ascii=False)}),")
        target = Path(__file__).resolve().parents[2] / "allauth_messages.py"
        target.write_text(HEADER + "MESSAGES = [\n" + "\n".join(singles) + "\n]\n\nPLURALS = [\n"
                          + "\n".join(plurals) + "\n]\n")
        self.stdout.write(f"{target}: {len(singles)} messages, {len(plurals)} plurals")
