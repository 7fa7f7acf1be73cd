#if canImport(Glibc)
import Glibc
#endif
import InletCLI

#if canImport(Glibc)
// glibc's malloc gives freed memory at the top of the heap back to the kernel once it passes the trim threshold
// (128 KB by default). A group commit frees about that much every batch (SQLite's statement and page buffers, the
// batch's records), so the heap was trimmed (`madvise`, a TLB shootdown on the other core) and faulted back in after
// every commit: raising the threshold to 256 MB took the commit thread from 114 to 87 µs of CPU per event (issue 14).
// Setting it also stops glibc from raising the mmap threshold by itself, so that is set here too: a request body of a
// few hundred KB comes from the heap like a small one instead of an mmap, page faults and munmap per request.
// `mallopt` is in <malloc.h>, which Swift's Glibc module leaves out: it is looked up by name (the C ABI, no shim).
if let symbol = dlsym(nil, "mallopt") {
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
    let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD in <malloc.h>
    _ = mallopt(trimThreshold, 256 << 20)
    _ = mallopt(mmapThreshold, 16 << 20)
}
#endif

await Inlet.runAsProcess()
