"""The `flask --app app …` commands: database, catalogue, scheduled work."""

import click

import catalogue
import leads
import models
import outbox
import scheduler
import territory


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
            count = leads.purge_drafts(app.config["DRAFT_MAX_AGE_HOURS"])
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

    @app.cli.command("list-associations")
    def list_associations_command():
        """Print slug<TAB>name for each association."""
        with models.db.connection_context():
            for slug, name in catalogue.list_associations():
                click.echo(f"{slug}\t{name}")

    @app.cli.command("tick")
    def tick_command():
        """Scheduled work, for cron or a systemd timer: sends the outbox, computes the
        statistics (safe to overlap)."""
        failed = False
        for name, report, error in scheduler.tick(app):
            if error is None:
                click.echo(report)
            else:
                failed = True
                click.echo(f"{name} : échec ({describe(error)})", err=True)
        if failed:
            raise SystemExit(1)
