"""Rich text is cleaned on its way out, whatever way it came in.

Wagtail whitelists rich text when an editor saves it, but HTML written by code
(imports, data migrations, a shell) reaches the database as is, and Wagtail
renders it as stored. Every rendering of rich text goes through one template,
`wagtailcore/shared/richtext.html`, which we override to clean the expanded HTML
with Wagtail's own whitelister: the features we enable (headings, bold, italic,
lists, links) are all within its rules; scripts, event handlers and javascript:
links are not.
"""

from functools import lru_cache

from django.utils.safestring import SafeString, mark_safe
from wagtail.whitelist import DEFAULT_ELEMENT_RULES, Whitelister


class RichTextWhitelister(Whitelister):
    # No image feature is enabled: an <img> in stored rich text came from elsewhere.
    element_rules = {tag: rule for tag, rule in DEFAULT_ELEMENT_RULES.items() if tag != "img"}


# Pages show the same few bodies over and over: parsing each once per process
# keeps the cleaning off the lesson page's time.
@lru_cache(maxsize=512)
def _clean(html: str) -> str:
    return RichTextWhitelister().clean(html)


def sanitise(html: str) -> SafeString:
    """`html` (already expanded from the database form) with only harmless tags left."""
    return mark_safe(_clean(str(html)))  # noqa: S308 - the whitelister escaped the rest
