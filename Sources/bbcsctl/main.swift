import BBCSCommands

BBCSCtl.main()
