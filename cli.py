"""The `flask --app app …` commands: database, catalogue, scheduled work."""

import sys
from pathlib import Path

import click
from flask import url_for

import models
from jobs import scheduler
from mail import outbox
from services import accounts, backups, catalogue, drafts, territory


def describe(error):
    """Our own configuration errors in full; others by class only (no personal data)."""
    if isinstance(error, outbox.ConfigError):
        return str(error)
    return f"{type(error).__name__}, détails dans le journal"


def register(app):
    @app.cli.command("init-db")
    def init_db_command():
        """Create or migrate the database."""
        applied = models.migrate()
        click.echo(f"Migrations appliquées : {', '.join(applied) or 'aucune'}")

    @app.cli.command("purge-drafts")
    def purge_drafts_command():
        """Delete the drafts nobody can resume any more (for cron)."""
        with models.db.connection_context():
            count = drafts.purge_drafts(app.config["DRAFT_MAX_AGE_HOURS"])
        click.echo(f"{count} brouillon(s) supprimé(s).")

    @app.cli.command("load-communes")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def load_communes_command(path):
        """Load the communes file (idempotent)."""
        with models.db.connection_context():
            count = territory.load_file(path)
        click.echo(f"{count} communes chargées.")

    @app.cli.command("load-catalogue")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def load_catalogue_command(path):
        """Validate and load a catalogue of associations and programmes."""
        try:
            with models.db.connection_context():
                report = catalogue.load_file(path)
        except catalogue.CatalogueError as error:
            for problem in error.errors:
                click.echo(str(problem), err=True)
            raise click.ClickException(
                f"{len(error.errors)} erreur(s) : rien n'a été chargé."
            ) from error
        click.echo(str(report))

    @app.cli.command("load-demo")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--demo", is_flag=True, envvar="DEMO", help="Mode démonstration (DEMO=1).")
    def load_demo_command(path, demo):
        """Load the fictional demo catalogue (make db): on a fresh instance (no catalogue)
        or in demo mode, never beside an operator's own catalogue."""
        with models.db.connection_context():
            own = catalogue.operator_associations(path)
            empty = not models.Association.select().exists()
            if own:
                click.echo(
                    "Catalogue de démonstration non chargé : la base contient le catalogue "
                    f"de l'exploitant ({len(own)} association(s) réelle(s))."
                )
                return
            if not (empty or demo):
                click.echo("Catalogue de démonstration non rechargé (DEMO=1 pour le recharger).")
                return
            click.echo(str(catalogue.load_file(path)))

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--association", "slug", help="Slug de l'association (voir list-associations).")
    @click.option(
        "--role",
        type=click.Choice(accounts.STAFF_ROLES),
        default="membre",
        show_default=True,
        help="Rôle dans l'association.",
    )
    @click.option("--admin", is_flag=True, help="Compte d'administration de la plateforme.")
    @click.option(
        "--invite", is_flag=True, help="Envoyer une invitation au lieu d'un mot de passe."
    )
    def create_user_command(email, slug, role, admin, invite):
        """Create a staff account (password from stdin or prompted), or invite it."""
        if admin == bool(slug):
            raise click.UsageError("Indiquez soit --association SLUG, soit --admin.")
        # A request context for url_for (the links' host is PUBLIC_URL, their path ours);
        # outermost, since its teardown gives the connection back.
        with app.test_request_context(), models.db.connection_context():
            association = None
            if slug:
                association = models.Association.get_or_none(models.Association.slug == slug)
                if association is None:
                    raise click.ClickException(
                        f"Association inconnue : {slug} (voir flask --app app list-associations)"
                    )
            password = None if invite else read_password()
            try:
                row = accounts.create_account(
                    email,
                    "admin" if admin else role,
                    association,
                    models.now(),
                    password=password,
                    link=lambda token: url_for("espace.invitation", token=token),
                )
            except accounts.AccountError as error:
                raise click.ClickException(str(error)) from error
        if invite:
            click.echo(f"Invitation envoyée à {row.email} (lien valable 14 jours).")
        else:
            click.echo(f"Compte créé : {row.email} ({row.role}).")

    @app.cli.command("list-associations")
    def list_associations_command():
        """Print slug<TAB>name for each association."""
        with models.db.connection_context():
            for slug, name in catalogue.list_associations():
                click.echo(f"{slug}\t{name}")

    @app.cli.command("backup")
    @click.argument("directory", required=False, type=click.Path(file_okay=False))
    @click.option("--keep", type=int, help="Sauvegardes gardées (défaut : BACKUP_KEEP).")
    def backup_command(directory, keep):
        """Back the database up (SQLite: VACUUM INTO, checked, gzip; PostgreSQL: pg_dump -Fc),
        named by date, keeping the most recent ones. Safe while the app runs."""
        directory = directory or app.config["BACKUP_DIR"] or Path(app.instance_path) / "sauvegardes"
        keep = app.config["BACKUP_KEEP"] if keep is None else keep
        try:
            with models.db.connection_context():
                backups.backup(app.config["DATABASE_URL"], directory, keep, say=click.echo)
        except backups.BackupError as error:
            raise click.ClickException(str(error)) from error

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--force", is_flag=True, help="Remplacer une base qui contient déjà des données.")
    def restore_command(path, force):
        """Replace the database by a backup: checked, migrated, queued e-mails set aside for
        the operator, erasures made since the backup applied again. Stop the servers and
        the tick first."""
        with models.db.connection_context():
            leads = backups.in_use()
        if leads is not None and not force:
            raise click.ClickException(
                f"La base contient déjà des données ({leads} demande(s)) : arrêtez les "
                "serveurs et le tick, puis relancez avec --force pour la remplacer."
            )
        try:
            summary = backups.restore(
                app.config["DATABASE_URL"],
                path,
                outbox.settings_from(app.config, app.instance_path).mail_dir,
                say=click.echo,
            )
        except backups.BackupError as error:
            raise click.ClickException(str(error)) from error
        click.echo(summary)

    @app.cli.command("tick")
    def tick_command():
        """Scheduled work, for cron or a systemd timer (safe to overlap): reminders and
        hand-overs, digests, retention, drafts, the outbox, then the statistics
        (scheduler.DUTIES)."""
        failed = False
        for name, report, error in scheduler.tick(app):
            if error is None:
                click.echo(report)
            else:
                failed = True
                click.echo(f"{name} : échec ({describe(error)})", err=True)
        if failed:
            raise SystemExit(1)


def read_password():
    """One line of standard input when it is not a terminal (scripts, pipes), else asked
    twice without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmez")
