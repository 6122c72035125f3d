"""Who may author course pages, and how their work gets published.

Trainers (group « Formateurs ») write modules and lessons under the catalogue;
the operating team (group « Modération ») reviews them through the workflow
« Relecture pédagogique » and publishes. Everything here is data in Wagtail's own
permission and workflow tables, so staff can adjust it in the admin afterwards.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from courses.models import CatalogPage

TRAINERS_GROUP = "Formateurs"
REVIEWERS_GROUP = "Modération"
WORKFLOW_NAME = "Relecture pédagogique"
REVIEW_TASK_NAME = "Relecture par l'équipe pédagogique"

# Wagtail's "add" lets a trainer create pages under the catalogue and edit the
# pages they own, and nothing else. Without "publish", every change a trainer
# makes waits for the review workflow before learners see it.
TRAINER_PAGE_PERMISSIONS = ["add"]
REVIEWER_PAGE_PERMISSIONS = ["add", "change", "publish", "lock", "unlock"]

# "add" on a collection also lets its holder edit the media they uploaded.
TRAINER_MEDIA_PERMISSIONS = [
    ("wagtailimages", "add_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "choose_document"),
]
REVIEWER_MEDIA_PERMISSIONS = [
    *TRAINER_MEDIA_PERMISSIONS,
    ("wagtailimages", "change_image"),
    ("wagtaildocs", "change_document"),
]
ADMIN_ACCESS = ("wagtailadmin", "access_admin")


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _grant_model_permission(group: Group, app_label: str, codename: str) -> int:
    if group.permissions.filter(content_type__app_label=app_label, codename=codename).exists():
        return 0
    group.permissions.add(_permission(app_label, codename))
    return 1


def _grant_page_permissions(group: Group, page: Page, types: list[str]) -> int:
    created = 0
    for permission_type in types:
        _, was_created = GroupPagePermission.objects.get_or_create(
            group=group, page=page, permission=_permission("wagtailcore", f"{permission_type}_page")
        )
        created += was_created
    return created


def _grant_collection_permissions(
    group: Group, collection: Collection, permissions: list[tuple[str, str]]
) -> int:
    created = 0
    for app_label, codename in permissions:
        _, was_created = GroupCollectionPermission.objects.get_or_create(
            group=group, collection=collection, permission=_permission(app_label, codename)
        )
        created += was_created
    return created


def _ensure_workflow(reviewers: Group, catalogue: CatalogPage | None) -> int:
    created = 0
    task = GroupApprovalTask.objects.filter(name=REVIEW_TASK_NAME).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=REVIEW_TASK_NAME)
        created += 1
    if not task.groups.filter(pk=reviewers.pk).exists():
        task.groups.add(reviewers)
        created += 1
    workflow, was_created = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    created += was_created
    _, was_created = WorkflowTask.objects.get_or_create(
        workflow=workflow, task=task, defaults={"sort_order": 0}
    )
    created += was_created
    if catalogue is not None:
        # The catalogue's workflow overrides Wagtail's default one on the root:
        # the nearest ancestor with a workflow decides for every module and lesson.
        _, was_created = WorkflowPage.objects.get_or_create(
            page=catalogue, defaults={"workflow": workflow}
        )
        created += was_created
    return created


@transaction.atomic
def ensure_authoring_setup() -> int:
    """Create the trainers' and reviewers' groups, their permissions and the review
    workflow; return how many objects were created (0 when all was already there).

    Page permissions and the workflow attach to the catalogue page; if it does not
    exist yet they are added by a later call.
    """
    created = 0
    trainers, was_created = Group.objects.get_or_create(name=TRAINERS_GROUP)
    created += was_created
    reviewers, was_created = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    created += was_created

    for group in (trainers, reviewers):
        created += _grant_model_permission(group, *ADMIN_ACCESS)

    root_collection = Collection.get_first_root_node()
    if root_collection is not None:
        created += _grant_collection_permissions(
            trainers, root_collection, TRAINER_MEDIA_PERMISSIONS
        )
        created += _grant_collection_permissions(
            reviewers, root_collection, REVIEWER_MEDIA_PERMISSIONS
        )

    catalogue = CatalogPage.objects.first()
    if catalogue is not None:
        created += _grant_page_permissions(trainers, catalogue, TRAINER_PAGE_PERMISSIONS)
        created += _grant_page_permissions(reviewers, catalogue, REVIEWER_PAGE_PERMISSIONS)

    created += _ensure_workflow(reviewers, catalogue)
    return created
