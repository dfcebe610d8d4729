from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "socdesk.cases"
    label = "cases"
    verbose_name = "Tasks and playbooks"

    def ready(self) -> None:
        """Join the one ticket path: refuse resolving over open required tasks, and apply the playbooks
        that ticket filters and help topics ask for on new tickets (after routing's own steps); tell the
        ticket filter how `?playbook=` selects tickets."""
        from socdesk.cases import history
        from socdesk.cases.merging import MOVER
        from socdesk.cases.models import Playbook
        from socdesk.cases.playbook_hooks import playbooks_after_create
        from socdesk.cases.resolution import resolution_blockers_check
        from socdesk.cases.selectors import tickets_with_playbooks
        from socdesk.routing.services.filters import filter_reference_register
        from socdesk.routing.vocabulary import ActionType
        from socdesk.tickets.filters import playbook_condition_register
        from socdesk.tickets.hooks import before_resolve_register, hook_register
        from socdesk.tickets.merge_hooks import merge_mover_register

        hook_register(created=playbooks_after_create)
        merge_mover_register(MOVER)  # a merged duplicate's tasks join the survivor
        before_resolve_register(resolution_blockers_check)
        filter_reference_register(ActionType.APPLY_PLAYBOOK, Playbook, "playbook")
        history.register()
        playbook_condition_register(tickets_with_playbooks)  # `?playbook=` of the queue and the API
