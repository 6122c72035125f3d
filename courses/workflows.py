"""Approving a review publishes the page only if it still passes its checks.

A trainer's revision is checked when it is submitted, but what it depends on can
change while it waits for review: the track's framework, a module made its
prerequisite meanwhile. Wagtail's approval would then raise the checks' error
from inside the workflow and answer the reviewer with a server error. Here the
approval is refused as a whole (the workflow's own transaction is undone: the
review stays open) and the reviewer lands on the page's editor, told what to fix.
"""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from wagtail.admin import messages
from wagtail.admin.modal_workflow import render_modal_workflow
from wagtail.workflows import publish_workflow_state


class ApprovalRefused(Exception):
    """The revision under review would not pass the page's checks if published."""

    def __init__(self, page, error: ValidationError):
        super().__init__(str(error))
        self.page = page
        self.reasons = error.messages


def publish_if_valid(workflow_state, user=None) -> None:
    """WAGTAIL_FINISH_WORKFLOW_ACTION: Wagtail's publication, refused when it fails its checks.

    The revision is checked before: a revision scheduled to go live later is only
    approved, not saved, so publishing it would check nothing now.
    """
    page = workflow_state.content_object
    try:
        page.get_latest_revision().as_object().full_clean()
        publish_workflow_state(workflow_state, user=user)
    except ValidationError as error:
        raise ApprovalRefused(page, error) from error


class RefusedApprovalMiddleware:
    """Turn a refused approval into the editor with its reasons, from a form or the modal."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApprovalRefused):
            return None
        message = _(
            "« %(title)s » was not published: %(reasons)s Fix the page, then approve it again."
        ) % {"title": exception.page.title, "reasons": " ".join(exception.reasons)}
        # « Approve with comment »: the comment was undone with the approval. Quoted,
        # so that the reviewer's words for the author are not lost.
        comment = request.POST.get("comment", "").strip()
        if comment:
            message += " " + _("Your comment, not recorded: « %(comment)s »") % {
                "comment": comment[:2000]
            }
        messages.error(request, message)
        editor = reverse("wagtailadmin_pages:edit", args=[exception.page.pk])
        if request.headers.get("x-requested-with") == "XMLHttpRequest":
            # What Wagtail's approval modal expects once done: where to go next.
            return render_modal_workflow(
                request, "", None, {}, json_data={"step": "success", "redirect": editor}
            )
        return redirect(editor)
