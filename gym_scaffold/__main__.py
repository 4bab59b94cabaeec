from gym_scaffold.cli import main

main()
