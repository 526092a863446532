"""Signals of the outbox, for apps above the kernel (the kernel imports none of them)."""

from __future__ import annotations

from django.dispatch import Signal

#: sent by ``outbox.append`` right after it inserted events, INSIDE the writing transaction
#: (``count``: how many). A receiver that acts on the events defers with ``on_commit``.
events_appended = Signal()
