from pipe.cli import main

main()
