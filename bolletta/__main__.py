from bolletta.cli.main import run

run()
