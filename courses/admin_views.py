"""Admin views for frameworks: import a file with a preview, start a new version."""

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from courses.frameworks_io import FrameworkFileError, parse_file, unstorable
from courses.models import Framework
from courses.services import import_frameworks, new_version

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# The previewed file travels back signed in the form rather than in a temporary
# file: any web process may serve the "apply" request, and none keeps local state.
PAYLOAD_SALT = "courses.framework-import"
PAYLOAD_MAX_AGE = 60 * 60
IMPORT_TEMPLATE = "courses/admin/framework_import.html"


def can_manage_frameworks(user) -> bool:
    return user.is_active and user.has_perms(["courses.add_framework", "courses.change_framework"])


def _require_framework_manager(request: HttpRequest) -> None:
    if not can_manage_frameworks(request.user):
        raise PermissionDenied


class FrameworkUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("A .json or .csv file in the format the export writes."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(size)s MB.") % {"size": MAX_UPLOAD_BYTES // 2**20}
            )
        return upload


class TextListField(forms.JSONField):
    """A framework's `sources` or `specialisations`: a JSON list of non-empty texts.

    Any JSON would do for the model, but the export writes these as lists and the
    page lists them item by item: "text" would show as four letters.
    """

    default_error_messages = {
        "not_a_list": gettext_lazy(
            'Enter a list of texts in JSON, for example ["first", "second"].'
        ),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return []  # the column is not nullable: blank means no item
        try:
            return super().to_python(value)
        except (ValueError, RecursionError):
            # json.loads refuses integers of more than 4,300 digits (a ValueError that is
            # not a JSONDecodeError) and recurses on deep nesting: both are bad input.
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except (ValueError, RecursionError):
            return InvalidJSONInput(data)

    def validate(self, value):
        super().validate(value)
        if not isinstance(value, list):
            raise ValidationError(self.error_messages["not_a_list"], code="not_a_list")
        errors = []
        for number, item in enumerate(value, start=1):
            if not isinstance(item, str) or not item.strip():
                problem = _("Expected non-empty text.")
            else:
                problem = unstorable(item)
            if problem:
                errors.append(
                    ValidationError(
                        _("Item %(number)s: %(problem)s") % {"number": number, "problem": problem},
                        code="invalid_item",
                    )
                )
        if errors:
            raise ValidationError(errors)

    def clean(self, value):
        # Trimmed as the import trims them, so that both store the same list.
        return [item.strip() for item in super().clean(value)]


class NewVersionForm(forms.Form):
    version = forms.CharField(label=gettext_lazy("New version"), max_length=20)


@require_http_methods(["GET", "POST"])
def import_frameworks_view(request: HttpRequest) -> HttpResponse:
    _require_framework_manager(request)
    if request.method == "POST" and "payload" in request.POST:
        return _apply(request)
    form = FrameworkUploadForm(request.POST or None, request.FILES or None)
    context = {"form": form}
    if form.is_valid():
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            report = import_frameworks(parse_file(upload.name, content), dry_run=True)
        except FrameworkFileError as error:
            context["problems"] = error.problems
        else:
            context["report"] = report
            context["file_name"] = upload.name
            context["payload"] = signing.dumps(
                {"name": upload.name, "content": content.decode("utf-8-sig")},
                salt=PAYLOAD_SALT,
                compress=True,
            )
    return TemplateResponse(request, IMPORT_TEMPLATE, context)


def _apply(request: HttpRequest) -> HttpResponse:
    try:
        payload = signing.loads(request.POST["payload"], salt=PAYLOAD_SALT, max_age=PAYLOAD_MAX_AGE)
    except signing.SignatureExpired:
        messages.error(request, _("The preview is more than an hour old: upload the file again."))
        return redirect("courses_framework_import")
    except signing.BadSignature:
        messages.error(request, _("The preview could not be read: upload the file again."))
        return redirect("courses_framework_import")
    # Checked again: the stored frameworks may have changed since the preview.
    try:
        report = import_frameworks(parse_file(payload["name"], payload["content"].encode()))
    except FrameworkFileError as error:
        context = {"form": FrameworkUploadForm(), "problems": error.problems}
        return TemplateResponse(request, IMPORT_TEMPLATE, context)
    if report.changed:
        messages.success(
            request,
            _("%(name)s imported: %(count)s changes.")
            % {"name": payload["name"], "count": len(report.changes) - len(report.of("keep"))},
        )
    else:
        messages.info(request, _("%(name)s: nothing to change.") % {"name": payload["name"]})
    return redirect("courses_framework:index")


@require_http_methods(["GET", "POST"])
def new_version_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_framework_manager(request)
    framework = get_object_or_404(Framework, pk=pk)
    form = NewVersionForm(request.POST or None)
    if form.is_valid():
        try:
            copy = new_version(framework, form.cleaned_data["version"])
        except ValidationError as error:
            for message in error.message_dict.get("version", error.messages):
                form.add_error("version", message)
        else:
            messages.success(
                request,
                _("Draft %(framework)s created; %(old)s is unchanged.")
                % {"framework": copy.label, "old": framework.label},
            )
            return redirect("courses_framework:edit", copy.pk)
    return TemplateResponse(
        request,
        "courses/admin/framework_new_version.html",
        {"framework": framework, "form": form},
    )
