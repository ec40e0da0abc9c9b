"""What links a lead to the assets: tags, lists, points, calendar bookings, membership access, and
the activity log (page visits, video plays, link clicks)."""

from django.db import models
from django.utils import timezone

from leads.models.assets import (
    CalendarClass,
    LeadList,
    Membership,
    MembershipLevel,
    Page,
    SplitTestLink,
    Tag,
    TrackingLink,
    Video,
)
from leads.models.lead import Lead

# ---------------------------------------------------------------------------------------------
# What links a lead to the assets


class LeadTag(models.Model):
    # No index of their own: leadtag_unique leads with lead, leadtag_tag_lead_idx with tag (each
    # index more is one more write on every tag assigned).
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="lead_tags", db_index=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="lead_tags", db_index=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "tag"], name="leadtag_unique")]
        indexes = [models.Index(fields=["tag", "lead"], name="leadtag_tag_lead_idx")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} tag {self.tag_id}"


class ListSubscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="list_subscriptions")
    list = models.ForeignKey(LeadList, on_delete=models.CASCADE, related_name="subscriptions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    subscribed_at = models.DateTimeField(default=timezone.now)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "list"], name="listsubscription_unique")]
        indexes = [models.Index(fields=["list", "status"], name="listsub_list_status_idx")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} list {self.list_id} ({self.status})"


class PointsChange(models.Model):
    """Append-only log; Lead.score is its running total."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="points_changes")
    delta = models.IntegerField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Set when the expiry job has taken the points back (with a reversing change of its own).
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["expired_at", "expires_at"], name="points_expiry_idx")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} {self.delta:+d}"


class CalendarBooking(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", "Registered"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="calendar_bookings")
    calendar_class = models.ForeignKey(CalendarClass, on_delete=models.CASCADE, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REGISTERED)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["status", "ends_at"], name="booking_status_ends_idx")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} class {self.calendar_class_id} at {self.starts_at:%Y-%m-%d %H:%M} ({self.status})"


class MembershipAccess(models.Model):
    """One row per lead and membership: the level held and whether access is granted."""

    class Status(models.TextChoices):
        GRANTED = "granted", "Granted"
        REVOKED = "revoked", "Revoked"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="membership_accesses")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="accesses")
    level = models.ForeignKey(MembershipLevel, on_delete=models.CASCADE, related_name="accesses")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.GRANTED)
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "membership accesses"
        constraints = [models.UniqueConstraint(fields=["lead", "membership"], name="membershipaccess_unique")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} level {self.level_id} ({self.status})"


class LeadActivity(models.Model):
    """Page visits, external page visits, video plays/completions, link clicks: one row each."""

    class Kind(models.TextChoices):
        PAGE_VISIT = "page_visit", "Visited a page"
        EXTERNAL_PAGE_VISIT = "external_page_visit", "Visited an external page"
        VIDEO_PLAY = "video_play", "Played a video"
        VIDEO_COMPLETE = "video_complete", "Completed a video"
        TRACKING_LINK_CLICK = "tracking_link_click", "Clicked a tracking link"
        SPLIT_TEST_LINK_CLICK = "split_test_link_click", "Clicked a split-test link"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    page = models.ForeignKey(Page, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    video = models.ForeignKey(Video, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    tracking_link = models.ForeignKey(TrackingLink, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    split_test_link = models.ForeignKey(
        SplitTestLink, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    url = models.URLField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "lead activities"
        indexes = [models.Index(fields=["lead", "-created_at"], name="activity_lead_created_idx")]

    def __str__(self) -> str:
        return f"{self.kind} lead {self.lead_id}"
