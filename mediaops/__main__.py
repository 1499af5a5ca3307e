from mediaops.cli import main

main()
