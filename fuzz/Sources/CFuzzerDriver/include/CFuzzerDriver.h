// libFuzzer's entry for programs that own `main` (compiler-rt FuzzerInterface.h). SwiftPM links an executable
// target's own `<module>_main` as `main`, so the fuzz targets start libFuzzer through this instead of libFuzzer's
// `main`.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
