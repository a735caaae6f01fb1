/// The termination a batch's `exit` asked for (§5.4), kept until the batch ends.
struct ExitRequest {
    /// The position of the `exit` in its batch.
    var index: Int
    var isFailure: Bool
    /// The reason, translated when the syscall ran.
    var info: CapData<KRef>
    /// The reason as the vat wrote it: translated again if the batch is rolled back.
    var vatInfo: CapData<VRef>
}
