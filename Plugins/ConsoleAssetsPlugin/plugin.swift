import Foundation
import PackagePlugin

/// Embeds the operator console's static files (`Sources/InletServer/Console/`) in the InletServer module at build
/// time, as generated Swift: the binary carries its page, so a release binary copied anywhere serves it (a SwiftPM
/// resource bundle would have to travel beside the binary, and `Bundle.module` stops the process when it is missing).
@main
struct ConsoleAssetsPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        // `directory` (a Path): `directoryURL` needs tools version 6.1, and this package declares 6.0.
        let directory = URL(fileURLWithPath: String(describing: target.directory)).appending(path: "Console")
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.isRegularFileKey])
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true && !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedConsoleFiles.swift")
        return [.buildCommand(displayName: "Embedding the operator console (\(files.count) files)",
                              executable: try context.tool(named: "ConsoleAssetEmbedder").url,
                              arguments: [output.path] + files.map(\.path),
                              inputFiles: files, outputFiles: [output])]
    }
}
