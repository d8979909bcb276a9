from simsource.cli import main

main(prog_name="simsource")
