"""The one set of StreamField blocks that lessons (and later pages) are written with.

Videos are linked, not embedded: the platform never fetches a third-party oEmbed
at run time, and a transcript is required so the content is accessible.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageChooserBlock

RICH_TEXT_FEATURES = ["h3", "h4", "bold", "italic", "ol", "ul", "link", "document-link"]


# Media blocks preview with whatever the library holds; their templates render
# an empty preview gracefully when it holds nothing yet.
def _image_preview() -> dict:
    from wagtail.images import get_image_model

    return {
        "image": get_image_model().objects.order_by("-created_at").first(),
        "alt_text": "Façade d'un tiers-lieu en centre-bourg",
        "caption": "Un tiers-lieu installé dans une ancienne gare",
    }


def _document_preview() -> dict:
    from wagtail.documents import get_document_model

    return {
        "document": get_document_model().objects.order_by("-created_at").first(),
        "description": "Modèle de convention d'occupation temporaire",
    }


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("Heading"), max_length=200)
    level = blocks.ChoiceBlock(label=_("Level"), choices=[("h2", "H2"), ("h3", "H3")], default="h2")

    class Meta:
        icon = "title"
        template = "courses/blocks/heading.html"
        preview_value = {"text": "Qu'est-ce qu'un tiers-lieu ?", "level": "h2"}


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("Image"))
    alt_text = blocks.CharBlock(
        label=_("Alternative text"),
        max_length=300,
        help_text=_("Describe what the image shows for people who cannot see it."),
    )
    caption = blocks.CharBlock(label=_("Caption"), required=False, max_length=300)

    class Meta:
        icon = "image"
        template = "courses/blocks/image.html"
        preview_value = staticmethod(_image_preview)


class VideoBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=200)
    url = blocks.URLBlock(label=_("Video address"))
    duration_minutes = blocks.IntegerBlock(
        label=_("Duration (minutes)"), required=False, min_value=1
    )
    transcript = blocks.RichTextBlock(label=_("Transcript"), features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "media"
        template = "courses/blocks/video.html"
        preview_value = {
            "title": "Visite d'un tiers-lieu rural",
            "url": "https://video.example.org/w/visite",
            "duration_minutes": 4,
            "transcript": "<p>Bienvenue à la Fabrique du Bocage, ancienne gare réhabilitée…</p>",
        }


class DocumentBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("Document"))
    description = blocks.CharBlock(label=_("Description"), required=False, max_length=300)

    class Meta:
        icon = "doc-full"
        template = "courses/blocks/document.html"
        preview_value = staticmethod(_document_preview)


class CalloutBlock(blocks.StructBlock):
    """« À retenir »: the key points a learner should leave with."""

    text = blocks.RichTextBlock(label=_("Key points"), features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "pick"
        label = _("Key points (« À retenir »)")
        template = "courses/blocks/callout.html"
        preview_value = {
            "text": "<ul><li>Un tiers-lieu naît d'un collectif.</li>"
            "<li>La collectivité accompagne, elle ne pilote pas.</li></ul>"
        }


class CaseStudyBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=200)
    territory = blocks.CharBlock(label=_("Territory"), max_length=200)
    context = blocks.RichTextBlock(label=_("Context"), features=RICH_TEXT_FEATURES)
    lessons_learnt = blocks.RichTextBlock(label=_("Lessons learnt"), features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "group"
        template = "courses/blocks/case_study.html"
        preview_value = {
            "title": "Une ancienne gare devenue tiers-lieu",
            "territory": "Communauté de communes rurale, 12 000 habitants",
            "context": "<p>La commune met le bâtiment à disposition d'une association.</p>",
            "lessons_learnt": "<p>Une convention d'occupation claire sécurise le projet.</p>",
        }


class ActivityBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=200)
    duration_minutes = blocks.IntegerBlock(
        label=_("Duration (minutes)"), required=False, min_value=1
    )
    instructions = blocks.RichTextBlock(label=_("Instructions"), features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "tasks"
        template = "courses/blocks/activity.html"
        preview_value = {
            "title": "Cartographier ses parties prenantes",
            "duration_minutes": 15,
            "instructions": "<p>Listez les acteurs de votre territoire et leur rôle.</p>",
        }


class LessonStreamBlock(blocks.StreamBlock):
    heading = HeadingBlock(label=_("Heading"))
    paragraph = blocks.RichTextBlock(
        label=_("Rich text"),
        features=RICH_TEXT_FEATURES,
        icon="pilcrow",
        template="courses/blocks/paragraph.html",
        preview_value="<p>Un tiers-lieu est un espace partagé, ouvert sur son territoire.</p>",
    )
    image = ImageBlock(label=_("Image"))
    video = VideoBlock(label=_("Video"))
    document = DocumentBlock(label=_("Downloadable document"))
    callout = CalloutBlock()
    case_study = CaseStudyBlock(label=_("Case study"))
    activity = ActivityBlock(label=_("Activity"))
