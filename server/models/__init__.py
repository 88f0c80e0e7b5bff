"""Typed SQLAlchemy models. Import from here: `from server.models import Study`."""

from server.db import Base
from server.models.accounts import ApiToken, Membership, Project, Role, User
from server.models.annotations import Annotation, AnnotationCategory, AnnotationKind, AnnotationStatus
from server.models.imaging import Blob, Document, DocumentKind, Instance, Recording, Series, Study
from server.models.work import AuditEvent, AuditHead, Job, JobStatus, Task, TaskStage, TaskStatus

__all__ = [
    "Annotation",
    "AnnotationCategory",
    "AnnotationKind",
    "AnnotationStatus",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Blob",
    "Document",
    "DocumentKind",
    "Instance",
    "Job",
    "JobStatus",
    "Membership",
    "Project",
    "Recording",
    "Role",
    "Series",
    "Study",
    "Task",
    "TaskStage",
    "TaskStatus",
    "User",
]
