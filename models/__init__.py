"""SQLModel tables and enums: the stored shape of casetasks, with no GraphQL in it."""

from sqlmodel import SQLModel

from models.auth import AuthSession
from models.notifications import Notification, NotificationKind
from models.people import Client, Employment, ServiceProvider, ServiceProviderGroup, Staff
from models.persisted import PersistedDocument
from models.reminders import DigestEmail, DigestStatus, ReminderSent
from models.series import TaskSeries, TaskSeriesResponsible
from models.tasks import Task, TaskEvent, TaskEventKind, TaskKind, TaskResponsible, TaskStatus

metadata = SQLModel.metadata

__all__ = [
    "AuthSession",
    "Client",
    "DigestEmail",
    "DigestStatus",
    "Employment",
    "Notification",
    "NotificationKind",
    "PersistedDocument",
    "ReminderSent",
    "ServiceProvider",
    "ServiceProviderGroup",
    "Staff",
    "Task",
    "TaskEvent",
    "TaskEventKind",
    "TaskKind",
    "TaskResponsible",
    "TaskSeries",
    "TaskSeriesResponsible",
    "TaskStatus",
    "metadata",
]
