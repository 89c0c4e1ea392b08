from tests.peer.run import main

main()
