import ArgumentParser
import Foundation
import LogbookCore
import LogbookEngine

/// Long text for a task verb: inline (`--note TEXT`) or from a file (`--note-file F`, `-` for
/// stdin), never both (exit 2). The size limit (SPEC: ≤ 8 KiB) applies to what is read: a
/// longer text is refused, never cut. A missing file is "not found" (exit 4), an unreadable one
/// an I/O error (exit 7), each naming the file. One trailing newline (as `echo` and editors
/// leave) is dropped; everything else is kept exactly.
enum TextSource {
    static func resolve(inline: String?, file: String?, name: String, task: String?, required: Bool) throws -> JSONValue? {
        switch (inline, file) {
        case (.some, .some):
            throw LogbookError(.usage, "--\(name) and --\(name)-file are mutually exclusive: give one", task: task)
        case (.some(let value), nil):
            return try text(value, name, task: task)
        case (nil, .some(let path)):
            return try text(try read(path, option: "--\(name)-file", task: task), name, task: task)
        case (nil, nil):
            if required { throw LogbookError(.usage, "missing --\(name) TEXT (or --\(name)-file FILE, - for stdin)", task: task) }
            return nil
        }
    }

    /// The text of `path` (`-`: stdin), read up to one byte past the limit.
    static func read(_ path: String, option: String, task: String?) throws -> String {
        let limit = Event.maxTextBytes
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw LogbookError(.notFound, "\(option) \(path): no such file", task: task, path: path)
            }
            guard !isDir.boolValue else { throw LogbookError(.badInput, "\(option) \(path) is a folder, not a file", task: task, path: path) }
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw LogbookError(.io, "\(option) \(path) cannot be read (permission denied?)", task: task, path: path)
            }
            handle = h
        }
        defer { if path != "-" { try? handle.close() } }
        var bytes: [UInt8] = []
        do {
            while bytes.count <= limit + 2, let chunk = try handle.read(upToCount: limit + 3 - bytes.count), !chunk.isEmpty {
                bytes.append(contentsOf: chunk)
            }
        } catch {
            throw LogbookError(.io, "\(option) \(path): \(error.localizedDescription)", task: task, path: path)
        }
        if bytes.last == 0x0A { bytes.removeLast(); if bytes.last == 0x0D { bytes.removeLast() } }
        let name = option.hasSuffix("-file") ? String(option.dropLast(5)) : option
        guard bytes.count <= limit else {
            throw LogbookError(.badInput, "\(name) from \(path == "-" ? "stdin" : path) is more than \(limit) bytes; the limit is \(limit) bytes",
                               task: task, rule: "size_limit", path: path == "-" ? nil : path)
        }
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw LogbookError(.badInput, "\(option) \(path == "-" ? "stdin" : path) is not UTF-8 text", task: task, path: path == "-" ? nil : path)
        }
        return s
    }
}

/// `--note TEXT` / `--note-file F`.
struct NoteText: ParsableArguments {
    @Option(help: "A note (≤ 8 KiB).") var note: String?
    @Option(name: .customLong("note-file"), help: ArgumentHelp("Read the note from a file (- for stdin).", valueName: "file"))
    var noteFile: String?

    func value(task: String, required: Bool = false) throws -> JSONValue? {
        try TextSource.resolve(inline: note, file: noteFile, name: "note", task: task, required: required)
    }
}

/// `--reason TEXT` / `--reason-file F`.
struct ReasonText: ParsableArguments {
    @Option(help: "Why (≤ 8 KiB).") var reason: String?
    @Option(name: .customLong("reason-file"), help: ArgumentHelp("Read the reason from a file (- for stdin).", valueName: "file"))
    var reasonFile: String?

    func value(task: String, required: Bool = true) throws -> JSONValue? {
        try TextSource.resolve(inline: reason, file: reasonFile, name: "reason", task: task, required: required)
    }
}

/// `--summary TEXT` / `--summary-file F`.
struct SummaryText: ParsableArguments {
    @Option(help: "Summary of the outcome (≤ 8 KiB).") var summary: String?
    @Option(name: .customLong("summary-file"), help: ArgumentHelp("Read the summary from a file (- for stdin).", valueName: "file"))
    var summaryFile: String?

    func value(task: String, required: Bool) throws -> JSONValue? {
        try TextSource.resolve(inline: summary, file: summaryFile, name: "summary", task: task, required: required)
    }
}

/// Text options are checked for size before anything is read or written.
func text(_ value: String, _ name: String, task: String? = nil) throws -> JSONValue {
    guard value.utf8.count <= Event.maxTextBytes else {
        throw LogbookError(.badInput, "--\(name) is \(value.utf8.count) bytes; the limit is \(Event.maxTextBytes) bytes", task: task, rule: "size_limit")
    }
    return .string(value)
}

/// A count or seq given on the command line is checked here, so it says it must be ≥ 0.
func nonNegative(_ value: Int, _ option: String, task: String? = nil, rule: String? = nil) throws {
    guard value >= 0 else { throw LogbookError(.badInput, "\(option) must be ≥ 0, got \(value)", task: task, rule: rule) }
}

/// Negative numbers as option values: argument-parser takes the `-5` of `--passed -5` for an
/// option and says "Missing value". `--NAME -N` (N digits) is rewritten `--NAME=-N` before
/// parsing, so the value reaches the command, whose check says it must be ≥ 0. Only before a
/// `--`; a value that is not a negative integer is left alone (and a truly missing value still
/// says "Missing value").
enum NegativeNumbers {
    static func join(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" { out += arguments[i...]; break }
            if a.hasPrefix("--"), a.count > 2, !a.contains("="), i + 1 < arguments.count, isNegativeInteger(arguments[i + 1]) {
                out.append(a + "=" + arguments[i + 1])
                i += 2
                continue
            }
            out.append(a)
            i += 1
        }
        return out
    }

    static func isNegativeInteger(_ s: String) -> Bool {
        s.count > 1 && s.hasPrefix("-") && s.dropFirst().allSatisfy(\.isASCII) && s.dropFirst().allSatisfy(\.isNumber)
    }
}
