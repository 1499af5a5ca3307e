"""Names vulture reports as unused that are used in ways it cannot see.

Read by `make lint`: `vulture mediaops runbooks vulture_allowlist.py --min-confidence 60`. Each line
references one name (vulture matches by name); the comment says who uses it. This file is never imported.
"""

# ruff: noqa: F821, B018  (`_` stands for any object: vulture reads the names, nothing runs this)

# -- click: commands and the run group are registered by their decorators; click calls the callbacks ----
_.list_runbooks  # `mediaops list` (cli.py, @cli.command)
_.run_group  # `mediaops run` (cli.py, @cli.group)
_.runs_show  # `mediaops runs show` (cli.py, @runs.command)
_.docs_command  # `mediaops docs` (cli.py, @cli.command)
_.apps_command  # `mediaops apps` (cli.py, @cli.command)
_.app_command  # `mediaops app` (cli.py, @cli.command)
_.graph_command  # `mediaops graph` (cli.py, @cli.command)
_.status_command  # `mediaops status` (cli.py, @cli.command)
_.unlock_command  # `mediaops unlock` (cli.py, @cli.command)
_.sim_up  # `mediaops sim up` (cli.py, @sim_group.command)
_.sim_down  # `mediaops sim down` (cli.py, @sim_group.command)
_.sim_status  # `mediaops sim status` (cli.py, @sim_group.command)
_.sim_vault  # `mediaops sim vault` (cli.py, @sim_group.command)
_.sim_fault  # `mediaops sim fault` (cli.py, @sim_group.command)
_.overseerr_tests  # sim/cluster.py Rehearsal: what tests read of the Overseerr stand-in
_.config_show  # `mediaops config show` (cli.py, @config_group.command)
_.list_commands  # RunGroup overrides click.Group.list_commands: click lists `mediaops run` subcommands
_.get_command  # RunGroup overrides click.Group.get_command: click resolves `mediaops run RUNBOOK`

# -- the terminal view: RichUI.handle dispatches each event to getattr(self, "_on_" + event) -----------------
_._on_run_start  # RichUI.handle, event "run_start"
_._on_check  # RichUI.handle, event "check"
_._on_step_plan  # RichUI.handle, event "step_plan"
_._on_details  # RichUI.handle, event "details"
_._on_log  # RichUI.handle, event "log"
_._on_wait_start  # RichUI.handle, event "wait_start"
_._on_wait_progress  # RichUI.handle, event "wait_progress"
_._on_wait_end  # RichUI.handle, event "wait_end"
_._on_step_start  # RichUI.handle, event "step_start"
_._on_step_end  # RichUI.handle, event "step_end"
_._on_undo_start  # RichUI.handle, event "undo_start"
_._on_undo_end  # RichUI.handle, event "undo_end"
_._on_warning  # RichUI.handle, event "warning"
_._on_follow_up  # RichUI.handle, event "follow_up"
_._on_run_end  # RichUI.handle, event "run_end"

# -- attributes read by libraries ---------------------------------------------------------------------------
_._built  # Context: read through self.__dict__["_built"] in Context.__getattr__ (no recursion while unset)
_.soft_wrap  # rich Console.soft_wrap: rich reads it when printing (plain output keeps lines whole)
_.caption  # rich Table.caption: rich renders it under the runs table
_.preserve_quotes  # ruamel YAML setting, read by ruamel when loading/dumping (yamlfiles.round_trip)
_.width  # ruamel YAML setting, read by ruamel when dumping (yamlfiles.round_trip)
_.explicit_start  # ruamel YAML setting, read by ruamel when dumping (yamlfiles.round_trip)
_.yaml_implicit_resolvers  # PyYAML class attribute: an empty table of its own that add_implicit_resolver fills
_.descend_resolver  # PyYAML composer calls it on the loader (yamlfiles.GoLoader: no path resolvers)
_.ascend_resolver  # PyYAML composer calls it on the loader (yamlfiles.GoLoader: no path resolvers)
_.node_selector  # gitops.Controller field: part of App.to_dict (vars), printed by `mediaops app(s) --json`

# -- http.server / socketserver: handler methods and class settings the standard library looks up ----------
_.do_GET  # BaseHTTPRequestHandler dispatches GET to do_GET (sim/server.py Handler, sim/cluster.py Ingress)
_.do_POST  # BaseHTTPRequestHandler dispatches POST (sim/server.py Handler)
_.do_PUT  # BaseHTTPRequestHandler dispatches PUT (sim/server.py Handler)
_.do_PATCH  # BaseHTTPRequestHandler dispatches PATCH (sim/server.py Handler)
_.do_DELETE  # BaseHTTPRequestHandler dispatches DELETE (sim/server.py Handler)
_.do_HEAD  # BaseHTTPRequestHandler dispatches HEAD (sim/standins.py Alertmanager: /-/healthy, /-/ready)
_.log_message  # BaseHTTPRequestHandler calls it for every request; overridden to keep output quiet
_.protocol_version  # BaseHTTPRequestHandler: HTTP/1.1 keep-alive for the API server
_.disable_nagle_algorithm  # StreamRequestHandler: sets TCP_NODELAY on each connection
_.close_connection  # BaseHTTPRequestHandler: read by handle() to end a keep-alive connection
_.daemon_threads  # ThreadingMixIn: request threads do not keep the process alive
_.allow_reuse_address  # TCPServer: SO_REUSEADDR on the API server's socket

# -- public API used by tests ------------------------------------------------------------------------------
_.recipient_of  # sim.sops: tests/contracts/test_sops.py encrypts for the rehearsal key to check real sops reads it

# -- runbooks: checks, steps, skip_when tests and undoers are registered by their decorators ---------------
_.app_is_disabled  # activate.py, @activate.check
_.revert_activation  # activate.py, @push_activation.undoer
_.no_service_monitor  # activate.py, @check_scrape.skip_when
_.app_is_active  # activate.py, @deactivate.check
_.nothing_to_lose  # activate.py, @backup_volumes.skip_when
_.keep_backup  # activate.py, @backup_volumes.undoer
_.revert_deactivation  # activate.py, @push_deactivation.undoer
_.app_active  # backup_before_upgrade.py, @runbook.check
_.bump_possible  # backup_before_upgrade.py, @runbook.check
_.storage_available  # backup_before_upgrade.py, @runbook.check
_.backup_holds_the_data  # backup_before_upgrade.py, @backup.verifier
_.volumes_capturable  # backup_before_upgrade.py, @runbook.check
_.no_version  # backup_before_upgrade.py, @bump.skip_when
_.nothing_bumped  # backup_before_upgrade.py, @commit.skip_when
_.hold_off  # backup_before_upgrade.py, @reconcile.undoer
_.not_pushed  # backup_before_upgrade.py, @wait_upgraded.skip_when
_.release_current  # everyday.py, @reconcile_release.skip_when
_.wait_reconciled  # everyday.py, @reconcile.step
_.has_workloads  # everyday.py, @restart.check
_.restarted_recently  # everyday.py, @rollout_restart.skip_when
_.wait_restarted  # everyday.py, @restart.step
_.nfs_apps  # nfs_outage.py, @runbook.check
_.nas_answers  # nfs_outage.py, @runbook.check
_.mount_failures  # nfs_outage.py, @runbook.check
_.flux_objects_present  # nfs_outage.py, @runbook.check
_.undo_suspend_kustomizations  # nfs_outage.py, @suspend_kustomizations.undoer
_.undo_suspend_releases  # nfs_outage.py, @suspend_releases.undoer
_.undo_scale_down  # nfs_outage.py, @scale_down.undoer
_.unplanned  # nfs_outage.py, @wait_for_down.skip_when
_.wait_for_nas  # nfs_outage.py, @runbook.step
_.nothing_scaled  # nfs_outage.py, @scale_up.skip_when
_.nothing_to_restart  # nfs_outage.py, @restart_apps.skip_when
_.check_ingress  # nfs_outage.py, @runbook.step
_.new_token  # rotate_plex_token.py, @runbook.check
_.sops_installed  # rotate_plex_token.py, @runbook.check
_.consumers  # rotate_plex_token.py, @runbook.check
_.sops_current  # rotate_plex_token.py, @sops_set.skip_when
_.undo_sops_set  # rotate_plex_token.py, @sops_set.undoer
_.trakt_current  # rotate_plex_token.py, @reconcile_trakt.skip_when
_.pms_current  # rotate_plex_token.py, @set_pms_token.skip_when
_.restore_config  # rotate_plex_token.py, @set_pms_token.undoer
_.tautulli_unchanged  # rotate_plex_token.py, @restart_tautulli.skip_when
_.deployment_exists  # trakt_reauth.py, @runbook.check
_.pvc_bound  # trakt_reauth.py, @runbook.check
_.last_sync  # trakt_reauth.py, @runbook.check
_.login_state  # trakt_reauth.py, @runbook.check
_.undo_stop_watch  # trakt_reauth.py, @stop_watch.undoer
_.verify_logs  # trakt_reauth.py, @runbook.step
_.check_command  # cli/check.py, @cli.command
_.nameservers  # checks/external_names.py, dnspython's Resolver reads it
_.lifetime  # checks/external_names.py, dnspython's Resolver reads it
_.backup_chosen  # restore.py, @restore.check
_.start_again  # restore.py, @stop.undoer
_.data_from_backup  # restore.py, @restored.verifier
_.drop_destinations  # restore.py, @restored.undoer
_.hosts_known  # mediabox_ingress.py, @runbook.check
_.ask_hosts  # mediabox_ingress.py, @runbook.step
_.controller_logs  # mediabox_ingress.py, @runbook.step
_.certificates  # mediabox_ingress.py, @runbook.step
_.cannot_ask_prometheus  # activate.py, @scraped.skip_when
_.asked_prometheus  # activate.py, @check_scrape.skip_when
_.no_cronjobs  # activate.py, @cronjobs_fine.skip_when
_.configured  # overseerr_weekly.py, @runbook.check
_.nothing_to_test  # overseerr_weekly.py, @test_notifications.skip_when
_.latest_backup  # overseerr_weekly.py, @runbook.step
_.system_chosen  # backup_before_upgrade.py, @runbook.check
_.backup_system  # deactivate.py, @deactivate.check
_.no_dependents  # deactivate.py, @deactivate.check
_.backup_holds_the_claims  # deactivate.py, @backup_volumes.verifier
_.trakt_has_the_token  # rotate_plex_token.py, @reconcile_trakt.verifier
_.tautulli_has_the_token  # rotate_plex_token.py, @restart_tautulli.verifier
__getattr__  # mediaops/engine/__init__.py, mediaops/repo/__init__.py: names imported when first asked for (PEP 562)
