"""Descriptions of the schema's public names that Strawberry's declarations leave without one.

The contract (tests/contract/schema.graphql) documents some names with strings, which the
declarations carry word for word; most of its rules are comments, and many names have neither.
Those are described here, in one table, rather than as description= on every declaration:
`document` puts each text on the built schema and fails at start-up on a name that no longer
exists, and tests/test_schema_descriptions.py fails on any public name left undocumented.
"""

from __future__ import annotations

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
)

ID = "Opaque, globally unique id; node(id:) resolves it."
CURSOR = "Opaque position of this edge; pass it as after to continue from here."
AFTER = "A cursor (an edge's cursor or pageInfo.endCursor): start after it."
FIRST = "How many to return, at most (0 to 200)."
ERRORS = "What the user can fix, every problem at once; when not empty, nothing was saved."
EXPECTED_VERSION = (
    "The task's version as last read: when it has changed since, nothing is saved and errors "
    "holds a CONFLICT."
)
BULK_IDS = (
    "1 to 100 distinct task ids of the viewer's provider; a failing task is named by its "
    'index, field ["input", "ids", "<index>"].'
)
NOTIFICATION_AFTER = (
    "A notification's cursor: first replays the viewer's notifications after it (what "
    "happened while the dashboard was away), then goes on live, with no gap and no duplicate."
)

DESCRIPTIONS: dict[str, str] = {
    # ------------------------------------------------------------------ interfaces, unions
    "Node": "An object with a global id: any of them can be fetched again with node(id:).",
    "Node.id": ID,
    "Viewer": "Who is signed in: a staff member, or a client using the client dashboard.",
    # ------------------------------------------------------------------ people
    "Permission": "What a staff member may do beyond viewing their own details.",
    "ServiceProviderGroup": "Providers that work together and may send tasks to each other.",
    "ServiceProviderGroup.id": ID,
    "ServiceProviderGroup.name": "The group's name.",
    "ServiceProviderGroup.providers": "The providers in the group.",
    "ServiceProvider": (
        "An employment or social services agency: its staff, clients and Tasks screen. Each "
        "provider's data is visible to its own staff only."
    ),
    "ServiceProvider.id": ID,
    "ServiceProvider.name": "The provider's name.",
    "ServiceProvider.group": "The group the provider belongs to, if any.",
    "ServiceProvider.staff(includeInactive)": "Also list deactivated staff (administrators only).",
    "Staff": "A staff member (caseworker or administrator) of a service provider.",
    "Staff.id": ID,
    "Staff.name": "Full name.",
    "Staff.isAdministrator": "Administers the provider: its staff, clients and every task.",
    "Staff.active": "False once deactivated: a deactivated staff member can no longer sign in.",
    "Staff.provider": "The provider the staff member works for.",
    "Staff.permissions": "What the staff member may do (TASKS: the Tasks screen).",
    "Client": "A person the provider supports into and through employment.",
    "Client.id": ID,
    "Client.name": "Full name.",
    "Client.email": "Contact e-mail address.",
    "Client.provider": "The provider supporting the client.",
    "Client.caseworker": "The staff member who looks after the client, if one is named.",
    "Client.employments": "The client's jobs, by start date.",
    "Client.tasks": "Tasks about this client, by due date.",
    "Client.tasks(includeCompleted)": "Also list completed tasks.",
    "Client.tasks(first)": FIRST,
    "Client.tasks(after)": AFTER,
    "Employment": (
        "A job the client started; recording one creates the Post-Employment Outreach tasks."
    ),
    "Employment.id": ID,
    "Employment.employer": "Who employs the client.",
    "Employment.startDate": "The first day of the job.",
    "Employment.endDate": "The last day of the job; null while it lasts.",
    # ------------------------------------------------------------------ tasks
    "TaskStatus": "Whether a task is still to do.",
    "TaskStatus.OPEN": "Still to do.",
    "TaskStatus.COMPLETED": "Done; reopenTask makes it open again.",
    "TaskKind": "How a task came to be.",
    "TaskKind.STANDARD": "Added by a caseworker, once.",
    "TaskKind.REPEATING": "An occurrence of a repeating task.",
    "TaskKind.POST_EMPLOYMENT_OUTREACH": (
        "One of the separate tasks created at the 1st, 3rd, 6th and 12th month of a client's "
        "employment."
    ),
    "Task": (
        "Something to do about a client or a caseworker's work: on the Tasks screen of its "
        "service provider, assigned to one or more responsible staff, or to the client."
    ),
    "Task.id": ID,
    "Task.name": "Task Name, as shown on the Tasks screen.",
    "Task.dueDate": "Due Date, in the provider's timezone.",
    "Task.status": "Open or completed.",
    "Task.kind": "Standard, an occurrence of a repeating task, or Post-Employment Outreach.",
    "Task.createdBy": "The staff member who added it; null for tasks the service created.",
    "Task.createdAt": "When it was added.",
    "Task.completedAt": "When it was completed; null while open.",
    "TaskEventKind": "What happened to a task.",
    "TaskEventKind.CREATED": "The task was added.",
    "TaskEventKind.EDITED": "Its name, details, due date or client changed.",
    "TaskEventKind.POSTPONED": "Its due date moved later.",
    "TaskEventKind.REASSIGNED": "Who's Responsible changed.",
    "TaskEventKind.COMPLETED": "It was completed.",
    "TaskEventKind.REOPENED": "It was opened again after being completed.",
    "TaskEvent": "One entry of a task's history.",
    "TaskEvent.kind": "What happened.",
    "TaskEvent.at": "When it happened.",
    "TaskEvent.by": "Who did it; null for the service itself.",
    "Frequency": "How often a repeating task repeats.",
    "Frequency.DAILY": "Every interval days.",
    "Frequency.WEEKLY": "Every interval weeks, on byWeekday.",
    "Frequency.MONTHLY": "Every interval months, on the first due date's day of the month.",
    "Frequency.YEARLY": "Every interval years, on the first due date's day and month.",
    "Weekday": "A day of the week, as RFC 5545 abbreviates it.",
    "Weekday.MO": "Monday.",
    "Weekday.TU": "Tuesday.",
    "Weekday.WE": "Wednesday.",
    "Weekday.TH": "Thursday.",
    "Weekday.FR": "Friday.",
    "Weekday.SA": "Saturday.",
    "Weekday.SU": "Sunday.",
    "TaskSeries.id": ID,
    "TaskSeries.name": "The name each occurrence gets.",
    "TaskSeries.details": "The details each occurrence gets.",
    "TaskSeries.startDate": "The first occurrence's due date.",
    "TaskSeries.until": "The last possible date (inclusive), if the rule has one.",
    "TaskSeries.count": "The number of occurrences, if the rule has one.",
    "TaskSeries.upcoming(first)": "How many dates to list, at most.",
    "TaskSeries.occurrences": "The occurrences already in the task list, by due date.",
    "TaskSeries.occurrences(includeCompleted)": "Also list completed occurrences.",
    "TaskSeries.occurrences(first)": FIRST,
    "TaskSeries.occurrences(after)": AFTER,
    "PageInfo": "Where a page ends, to ask for the next one.",
    "PageInfo.hasNextPage": "More items follow this page.",
    "PageInfo.endCursor": "The last edge's cursor: pass it as after for the next page.",
    "TaskConnection": "A page of tasks.",
    "TaskConnection.edges": "The tasks of this page, in the order asked for.",
    "TaskConnection.pageInfo": "Where this page ends.",
    "TaskConnection.totalCount": "How many tasks match, over all pages.",
    "TaskEdge": "A task in a page, with its position.",
    "TaskEdge.cursor": CURSOR,
    "TaskEdge.node": "The task.",
    "ClientConnection": "A page of clients.",
    "ClientConnection.edges": "The clients of this page, by name.",
    "ClientConnection.pageInfo": "Where this page ends.",
    "ClientConnection.totalCount": "How many clients match, over all pages.",
    "ClientEdge": "A client in a page, with its position.",
    "ClientEdge.cursor": CURSOR,
    "ClientEdge.node": "The client.",
    "TaskFilter": "Narrows the Tasks screen; the conditions given must all hold.",
    "TaskFilter.clientId": "Only tasks about this client.",
    "TaskFilter.responsibleId": "Only tasks this staff member is responsible for.",
    "TaskFilter.dueFrom": "Only tasks due on or after this date.",
    "TaskFilter.dueTo": "Only tasks due on or before this date.",
    "TaskFilter.overdue": "true: only overdue tasks; false: only tasks that are not overdue.",
    "TaskFilter.kind": "Only tasks of this kind.",
    "TaskOrder": "The order of the Tasks screen.",
    "TaskOrder.DUE_DATE_ASC": "Earliest due first.",
    "TaskOrder.DUE_DATE_DESC": "Latest due first.",
    "TaskOrder.CREATED_AT_DESC": "Newest first.",
    # ------------------------------------------------------------------ notifications
    "NotificationKind": "Why a notification was made.",
    "NotificationKind.UNASSIGNED_TASK": (
        "A task sent to the viewer's provider with no caseworker responsible."
    ),
    "NotificationKind.CLIENT_TASK_COMPLETED": "A client completed a task assigned to them.",
    "NotificationKind.TASK_ASSIGNED": "The viewer was made responsible for a task by someone else.",
    "NotificationKind.CASELOAD_RECEIVED": (
        "(v2) Someone handed a caseload over to the viewer (handOverCaseload)."
    ),
    "NotificationKind.DUE_SOON": (
        "(v2) A task the viewer is responsible for is due within the provider's dueSoonDays."
    ),
    "NotificationKind.OVERDUE": "(v2) A task the viewer is responsible for became overdue.",
    "NotificationKind.UNASSIGNED_ESCALATION": (
        "(v2) Administrators: a task of the provider stayed Unassigned longer than "
        "escalateUnassignedAfterHours."
    ),
    "Notification.id": ID,
    "Notification.kind": "Why it was made.",
    "Notification.message": "What to show in the widget, in plain words.",
    "Notification.createdAt": "When it was made.",
    "Notification.task": "The task it is about; null once the task is deleted or not visible.",
    "Notification.read": "Marked read with markNotificationsRead.",
    "NotificationConnection": "A page of the viewer's notifications, newest first.",
    "NotificationConnection.edges": "The notifications of this page.",
    "NotificationConnection.pageInfo": "Where this page ends.",
    "NotificationConnection.unreadCount": "How many of the viewer's notifications are unread.",
    "NotificationEdge": "A notification in a page, with its position.",
    "NotificationEdge.cursor": CURSOR,
    "NotificationEdge.node": "The notification.",
    "UnassignedTaskAlert.notification": "The stored notification (its cursor resumes after it).",
    "UnassignedTaskAlert.task": "The task that arrived Unassigned.",
    "ClientTaskCompletion.notification": "The stored notification (its cursor resumes after it).",
    "ClientTaskCompletion.task": "The task the client completed.",
    "ClientTaskCompletion.client": "The client who completed it.",
    # ------------------------------------------------------------------ queries
    "Query": "Reads. Each needs a signed-in viewer unless said otherwise.",
    "Query.node": "Any object by its id; null when it does not exist or is not visible.",
    "Query.node(id)": "A global id.",
    "Query.tasks(filter)": "Conditions the tasks must meet; none lists the open tasks.",
    "Query.tasks(orderBy)": "The order of the list.",
    "Query.tasks(first)": FIRST,
    "Query.tasks(after)": AFTER,
    "Query.task": "One task of the viewer's provider; null when not found or not visible.",
    "Query.task(id)": "The task's id.",
    "Query.myTasks(includeCompleted)": "Also list completed tasks.",
    "Query.myTasks(first)": FIRST,
    "Query.myTasks(after)": AFTER,
    "Query.clients(search)": "Words to find in the client's name or e-mail, case-insensitive.",
    "Query.clients(first)": FIRST,
    "Query.clients(after)": AFTER,
    "Query.client": "One client of the viewer's provider; null when not found or not visible.",
    "Query.client(id)": "The client's id.",
    "Query.notifications(unreadOnly)": "Only notifications not yet read.",
    "Query.notifications(first)": FIRST,
    "Query.notifications(after)": AFTER,
    # ------------------------------------------------------------------ mutations
    "Mutation": (
        "Changes. Each takes one input and returns a payload: what the user can fix comes back "
        "in errors, every problem at once, and nothing is saved."
    ),
    "UserErrorCode": "The kind of problem with the input.",
    "UserErrorCode.REQUIRED": "A mandatory field is missing or empty.",
    "UserErrorCode.INVALID": "A value is not acceptable (a date in the past, an unknown id...).",
    "UserErrorCode.CONFLICT": "Someone changed the task since it was read (expectedVersion).",
    "UserError": "A problem the user can fix from the form.",
    "UserError.code": "The kind of problem.",
    "LoginPayload": "The result of login.",
    "LoginPayload.viewer": "Who signed in; null when the login failed.",
    "LoginPayload.errors": ERRORS,
    "Mutation.login": "Signs in a staff member or a client with portal access.",
    "Mutation.login(email)": "The e-mail address the person signs in with.",
    "Mutation.login(password)": "Their password.",
    "CreateStaffInput": "A new staff member of the administrator's provider.",
    "CreateStaffInput.name": "Full name: mandatory.",
    "CreateStaffInput.email": "E-mail address, the login: mandatory and not already in use.",
    "CreateStaffInput.password": "The first password: mandatory, at least 8 characters.",
    "CreateStaffInput.isAdministrator": "Make them an administrator of the provider.",
    "CreateStaffInput.permissions": "What they may do; TASKS by default.",
    "UpdateStaffInput": "Changes to a staff member; omitted fields stay as they are.",
    "UpdateStaffInput.id": "The staff member's id.",
    "UpdateStaffInput.name": "New full name.",
    "UpdateStaffInput.isAdministrator": "Make them an administrator, or no longer one.",
    "UpdateStaffInput.permissions": "Their permissions from now on.",
    "UpdateStaffInput.active": "false deactivates them: their sessions end at once.",
    "StaffPayload": "The result of a change to a staff member.",
    "StaffPayload.staff": "The staff member as saved; null when nothing was saved.",
    "StaffPayload.errors": ERRORS,
    "Mutation.createStaff(input)": "The new staff member.",
    "Mutation.updateStaff": "Administrators: changes a staff member of their own provider.",
    "Mutation.updateStaff(input)": "What to change.",
    "Mutation.setGroupTasksPermission(input)": "Whose permission, and whether it is given.",
    "SetGroupTasksPermissionInput": "Gives or takes the group Tasks permission.",
    "SetGroupTasksPermissionInput.staffId": "A staff member of a provider of the group.",
    "SetGroupTasksPermissionInput.enabled": "true gives the permission, false takes it away.",
    "CreateClientInput": "A new client of the viewer's provider.",
    "CreateClientInput.name": "Full name: mandatory.",
    "CreateClientInput.email": "Contact e-mail address; needed for portal access.",
    "CreateClientInput.caseworkerId": "The staff member who looks after the client.",
    "UpdateClientInput.id": "The client's id.",
    "UpdateClientInput.name": "New full name.",
    "UpdateClientInput.email": "New contact e-mail address.",
    "UpdateClientInput.caseworkerId": "The staff member who looks after the client from now on.",
    "ClientPayload": "The result of a change to a client.",
    "ClientPayload.client": "The client as saved; null when nothing was saved.",
    "ClientPayload.errors": ERRORS,
    "Mutation.createClient": "Staff: adds a client to their provider.",
    "Mutation.createClient(input)": "The new client.",
    "Mutation.updateClient(input)": "What to change.",
    "RecordEmploymentInput": "A job a client started.",
    "RecordEmploymentInput.clientId": "The client's id.",
    "RecordEmploymentInput.employer": "Who employs the client: mandatory.",
    "RecordEmploymentInput.startDate": "The first day of the job: mandatory.",
    "EndEmploymentInput": "The end of a client's job.",
    "EndEmploymentInput.employmentId": "The employment's id.",
    "EndEmploymentInput.endDate": "The last day of the job; not before its start.",
    "EmploymentPayload": "The result of recording or ending a job.",
    "EmploymentPayload.employment": "The employment as saved; null when nothing was saved.",
    "EmploymentPayload.errors": ERRORS,
    "Mutation.recordEmployment(input)": "The job.",
    "Mutation.endEmployment": "Ends a client's job, optionally cancelling outreach still to come.",
    "Mutation.endEmployment(input)": "Which job, and when it ended.",
    "TaskPayload": "The result of a change to a task.",
    "TaskPayload.task": "The task as saved; null when nothing was saved.",
    "TaskPayload.errors": ERRORS,
    "CreateTaskInput": "A new task, or with recurrence a repeating task.",
    "CreateTaskInput.clientId": "The client the task is about.",
    "CreateTaskInput.details": "Free text: what to do and anything useful to know.",
    "RecurrenceInput": "How a task repeats, as an RFC 5545 rule.",
    "RecurrenceInput.frequency": "Daily, weekly, monthly or yearly.",
    "ChangeScope": "Which tasks a change to an occurrence of a repeating task applies to.",
    "ChangeScope.THIS": "Only this occurrence.",
    "ChangeScope.THIS_AND_FOLLOWING": (
        "This occurrence and every later one of its series (completed ones untouched)."
    ),
    "UpdateTaskInput": "Changes to a task; omitted fields stay as they are.",
    "UpdateTaskInput.id": "The task's id.",
    "UpdateTaskInput.expectedVersion": EXPECTED_VERSION,
    "UpdateTaskInput.name": "New Task Name.",
    "UpdateTaskInput.details": "New details.",
    "UpdateTaskInput.dueDate": "New Due Date.",
    "UpdateTaskInput.clientId": "The client the task is about from now on.",
    "UpdateTaskInput.scope": "For an occurrence of a repeating task: this one, or the rest too.",
    "PostponeBy": "How far to postpone a task.",
    "PostponeBy.ONE_WEEK": "One week past the current due date.",
    "PostponeBy.TWO_WEEKS": "Two weeks past the current due date.",
    "PostponeBy.THREE_WEEKS": "Three weeks past the current due date.",
    "PostponeBy.FOUR_WEEKS": "Four weeks past the current due date.",
    "PostponeBy.CUSTOM": "To customDate, which must be after the current due date.",
    "PostponeTaskInput": "Moves a task's due date later.",
    "PostponeTaskInput.id": "The task's id.",
    "PostponeTaskInput.customDate": "The new due date, with by: CUSTOM.",
    "PostponeTaskInput.expectedVersion": EXPECTED_VERSION,
    "ReassignTaskInput": "Changes who is responsible for a task.",
    "ReassignTaskInput.id": "The task's id.",
    "ReassignTaskInput.assignedToClient": "Give the task to its client (or take it back).",
    "ReassignTaskInput.expectedVersion": EXPECTED_VERSION,
    "CompleteTaskInput": "Which task to complete (or reopen).",
    "CompleteTaskInput.id": "The task's id.",
    "CompleteTaskInput.expectedVersion": EXPECTED_VERSION,
    "DeleteTaskInput": "Which task to delete.",
    "DeleteTaskInput.id": "The task's id.",
    "DeletePayload": "The result of deleting.",
    "DeletePayload.deletedIds": "The ids of every task deleted.",
    "DeletePayload.errors": ERRORS,
    # ------------------------------------------------------------------ reminders
    "UpdateReminderSettingsInput.dueSoonDays": (
        "Days before the due date that DUE_SOON goes out, 0 to 30; null: never."
    ),
    "UpdateReminderSettingsInput.overdue": "Whether OVERDUE goes out (not null).",
    "UpdateReminderSettingsInput.escalateUnassignedAfterHours": (
        "Hours Unassigned before UNASSIGNED_ESCALATION, 1 to 720; null: never."
    ),
    "UpdateReminderSettingsInput.sendAtHour": "Local hour, 0 to 23 (not null).",
    "ReminderSettingsPayload.reminderSettings": (
        "The settings as saved; null when nothing was saved."
    ),
    "ReminderSettingsPayload.errors": ERRORS,
    "UpdateMyPreferencesInput.emailDigest": "The daily e-mail digest on or off (not null).",
    "PreferencesPayload.preferences": "The preferences as saved; null when nothing was saved.",
    "PreferencesPayload.errors": ERRORS,
    "CalendarFeedPayload.url": (
        "The private address (keep it secret: anyone with it reads the calendar); null when "
        "turned off."
    ),
    "CalendarFeedPayload.errors": ERRORS,
    "Mutation.updateReminderSettings(input)": "The settings to change; omitted ones stay.",
    "Mutation.updateMyPreferences(input)": "The preferences to change; omitted ones stay.",
    "Mutation.setCalendarFeed(input)": "Turn the feed on (a new address) or off.",
    # ------------------------------------------------------------------ caseload management
    "ReassignTasksInput.ids": BULK_IDS,
    "PostponeTasksInput.ids": BULK_IDS,
    "PostponeTasksInput.by": "N weeks past each task's current due date, or customDate.",
    "PostponeTasksInput.customDate": "The new due date of every task, with by: CUSTOM.",
    "CompleteTasksInput.ids": BULK_IDS,
    "TasksPayload.tasks": "The tasks as saved, in the order of ids; empty when nothing was saved.",
    "TasksPayload.errors": ERRORS,
    "HandOverCaseloadInput.fromStaffId": (
        "The staff member leaving, of the administrator's provider (active or deactivated)."
    ),
    "HandOverCaseloadPayload.errors": ERRORS,
    "SkipOccurrenceInput.seriesId": "The repeating task (Task.series.id).",
    "TaskSeriesPayload.series": "The repeating task as saved; null when nothing was saved.",
    "TaskSeriesPayload.errors": ERRORS,
    "Mutation.reassignTasks(input)": "Which tasks, and who is responsible for all of them.",
    "Mutation.postponeTasks(input)": "Which tasks, and how far to postpone each.",
    "Mutation.completeTasks(input)": "Which tasks to complete.",
    "Mutation.handOverCaseload(input)": "Whose caseload goes to whom.",
    "Mutation.skipOccurrence(input)": "The repeating task and the scheduled date to skip.",
    "Mutation.unskipOccurrence(input)": "The repeating task and the skipped date to restore.",
    "Mutation.createTask": "Staff with Tasks permission: adds a task (or a repeating task).",
    "Mutation.createTask(input)": "The new task.",
    "Mutation.updateTask": "Staff with Tasks permission: edits a task.",
    "Mutation.updateTask(input)": "What to change.",
    "Mutation.postponeTask": "Staff with Tasks permission: moves a task's due date later.",
    "Mutation.postponeTask(input)": "Which task, and how far.",
    "Mutation.reassignTask": "Staff with Tasks permission: changes Who's Responsible.",
    "Mutation.reassignTask(input)": "Which task, and who is responsible from now on.",
    "Mutation.completeTask(input)": "Which task.",
    "Mutation.reopenTask": "Staff with Tasks permission: makes a completed task open again.",
    "Mutation.reopenTask(input)": "Which task.",
    "Mutation.deleteTask": "Staff with Tasks permission: deletes a task (or a repeating task).",
    "Mutation.deleteTask(input)": "Which task, and for an occurrence, whether the rest go too.",
    "MarkNotificationsReadInput": "Which notifications to mark read.",
    "MarkNotificationsReadPayload": "The result of marking notifications read.",
    "MarkNotificationsReadPayload.unreadCount": "The viewer's unread notifications, counted.",
    "Mutation.markNotificationsRead": "Marks the viewer's notifications read.",
    "Mutation.markNotificationsRead(input)": "Which ones.",
    # ------------------------------------------------------------------ subscriptions
    "Subscription": (
        "Live events over graphql-transport-ws at /graphql; authenticate in connection_init's "
        'payload: {"Authorization": "Bearer <token>"}.'
    ),
    "Subscription.unassignedTaskAlerts(after)": NOTIFICATION_AFTER,
    "Subscription.clientTaskCompletions(clientId)": "Only completions by this client.",
    "Subscription.clientTaskCompletions(after)": NOTIFICATION_AFTER,
    "Subscription.notificationAdded(after)": NOTIFICATION_AFTER,
}


def document(schema: GraphQLSchema, descriptions: dict[str, str] = DESCRIPTIONS) -> None:
    """Puts each text on the name it belongs to, where the declaration gave none."""
    for name, text in descriptions.items():
        target = _named(schema, name)
        if not target.description:
            target.description = text


Described = GraphQLNamedType | GraphQLField | GraphQLArgument | GraphQLEnumValue | GraphQLInputField


def _named(schema: GraphQLSchema, name: str) -> Described:
    """Type, Type.field, Type.field(argument) or Enum.VALUE; a KeyError names a stale key."""
    type_name, _, member = name.partition(".")
    named = schema.type_map.get(type_name)
    if named is None:
        raise KeyError(f"schema/descriptions.py describes {name}, which the schema has not")
    if not member:
        return named
    field_name, _, argument = member.partition("(")
    try:
        if isinstance(named, GraphQLEnumType):
            return named.values[field_name]
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            field = named.fields[field_name]
            return field.args[argument.rstrip(")")] if argument else field
    except KeyError:
        pass
    raise KeyError(f"schema/descriptions.py describes {name}, which the schema has not")
