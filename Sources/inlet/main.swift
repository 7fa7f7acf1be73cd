import InletCLI

await Inlet.runAsProcess()
