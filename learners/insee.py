"""French administrative reference data (INSEE COG codes) and the checks built on it.

The régions and départements are shipped in data/insee/ and read once per
process: the platform never fetches reference data at run time.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "insee"


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True)
class Departement:
    code: str
    name: str
    region: str  # INSEE code of its région


@cache
def regions() -> dict[str, Region]:
    """Régions by INSEE code, in the file's order."""
    data = json.loads((DATA_DIR / "regions.json").read_text(encoding="utf-8"))
    return {row["code"]: Region(row["code"], row["name"]) for row in data["regions"]}


@cache
def departements() -> dict[str, Departement]:
    """Départements by INSEE code (« 2A », « 971 »…), in code order."""
    data = json.loads((DATA_DIR / "departements.json").read_text(encoding="utf-8"))
    return {
        row["code"]: Departement(row["code"], row["name"], row["region"])
        for row in data["departements"]
    }


def region_name(code: str) -> str:
    region = regions().get(code)
    return region.name if region else ""


def departement_name(code: str) -> str:
    departement = departements().get(code)
    return departement.name if departement else ""


def departement_choices() -> list[tuple[str, str]]:
    return [(d.code, f"{d.code} — {d.name}") for d in departements().values()]


def region_choices() -> list[tuple[str, str]]:
    return [(r.code, f"{r.code} — {r.name}") for r in regions().values()]


def validate_departement(value: str) -> None:
    if value and value not in departements():
        raise ValidationError(
            _("« %(value)s » is not an INSEE département code (e.g. 23, 2A, 971)."),
            code="invalid_departement",
            params={"value": value},
        )


def validate_region(value: str) -> None:
    if value and value not in regions():
        raise ValidationError(
            _("« %(value)s » is not an INSEE région code (e.g. 75, 84)."),
            code="invalid_region",
            params={"value": value},
        )


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that SIREN numbers carry in their last digit."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def validate_siren(value: str) -> None:
    if not value:
        return
    if len(value) != 9 or not value.isdigit():
        raise ValidationError(_("A SIREN number has exactly 9 digits."), code="siren_length")
    if not luhn_valid(value):
        raise ValidationError(
            _("This SIREN number is not valid: check for a typing error."), code="siren_checksum"
        )
