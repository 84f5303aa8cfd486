import LogbookCore
import Testing

/// Fuzz: plan files (PlanDocument, spec validation, digest, lock).
@Suite struct PlanDocumentFuzzTests {
    @Test func planFilesNeverCrashAndNoBadIdPassesValidation() throws {
        let seeds = [FuzzSeeds.file("golden/plan.json"), CanonicalJSON.bytes(Fixture.planJSON(tasks: Fixture.standardTasks)),
                     PrettyJSON.bytes(PlanDocument(json: Fixture.planJSON(tasks: Fixture.standardTasks)).locked().json)]
        var f = Fuzzer("plan", seeds: seeds)
        let registry = Fixture.registry
        let r = f.run { input in
            let doc = try PlanDocument(bytes: input, name: "exec_plan_1.txt")
            _ = doc.digest
            _ = doc.taskDigests
            _ = doc.locked().digest
            let spec = try doc.spec()
            _ = try? doc.spec(personas: registry)
            // Ids reach file names and messages: only valid ids get past validation.
            Fuzzer.check("plan", Identifier.isValid(spec.id) && spec.tasks.allSatisfy { Identifier.isValid($0.id) && Identifier.isValid($0.assignedPersona) }, input,
                    "an invalid id passed plan validation")
            return .accepted
        }
        #expect(r.accepted > Fuzzer.inputs / 200 && r.rejected > Fuzzer.inputs / 10)
    }
}
