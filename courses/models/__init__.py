from .frameworks import Block, Competence, CompetenceCrosswalk, Framework, Level
from .pages import (
    Audience,
    CatalogPage,
    Format,
    HomePage,
    LessonPage,
    ModuleCompetence,
    ModulePage,
    TrackPage,
)

__all__ = [
    "Audience",
    "Block",
    "CatalogPage",
    "Competence",
    "CompetenceCrosswalk",
    "Format",
    "Framework",
    "HomePage",
    "LessonPage",
    "Level",
    "ModuleCompetence",
    "ModulePage",
    "TrackPage",
]
