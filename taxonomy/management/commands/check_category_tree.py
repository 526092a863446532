from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from config.api.errors import ApiError
from taxonomy.selectors import tree_problems
from taxonomy.services import rebuild_category_tree

SHOWN = 50


class Command(BaseCommand):
    help = (
        "Verify the category tree's invariants (nested-set positions, nesting, levels, one root "
        "per tree); with --rebuild, repair them from the parent links. Exits non-zero while the "
        "tree is inconsistent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Recompute lft/rght/tree_id/level from parent, keeping the sibling order.",
        )

    def handle(self, *args, rebuild: bool, **options):
        problems = tree_problems()
        if not problems:
            self.stdout.write("The category tree is consistent.")
            return
        self._report(problems)
        if not rebuild:
            raise CommandError(
                f"The category tree has {len(problems)} problem(s); run with --rebuild to repair."
            )
        try:
            changed = rebuild_category_tree()
        except ApiError as exc:
            raise CommandError(f"Cannot rebuild the category tree: {exc.message}") from exc
        remaining = tree_problems()
        if remaining:
            self._report(remaining)
            raise CommandError(f"{len(remaining)} problem(s) remain after the rebuild.")
        self.stdout.write(f"Rebuilt the category tree: {changed} categories repositioned.")

    def _report(self, problems: list[str]) -> None:
        for problem in problems[:SHOWN]:
            self.stderr.write(f"- {problem}")
        if len(problems) > SHOWN:
            self.stderr.write(f"… and {len(problems) - SHOWN} more")
