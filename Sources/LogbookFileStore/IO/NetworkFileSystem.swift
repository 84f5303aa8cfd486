/// Journals rely on `flock` and `fdatasync` meaning what they mean on a local disk. On network
/// file systems they do not (NFS locks are advisory per client and emulated, SMB/CIFS caching
/// breaks ordering), so the file store refuses them and points to the PostgreSQL backend.
enum NetworkFileSystem {
    static let magics: [Int64: String] = [
        0x6969: "NFS",
        0x517B: "SMB",
        0xFE53_4D42: "SMB2",
        0xFF53_4D42: "CIFS",
        0x0102_1997: "9P",
        0x5346_414F: "AFS",
        0x0BD0_0BD0: "Lustre",
        0x0047_504C_4653: "GPFS",
    ]

    /// The name of the network file system for a statfs f_type, or nil for a local one.
    static func name(ofType type: Int64) -> String? {
        magics[type] ?? magics[type & 0xFFFF_FFFF]
    }
}
