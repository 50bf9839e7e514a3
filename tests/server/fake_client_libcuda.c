/* Stands in for RRTO's own client library (libcuda.so.1 from our build tree)
 * in the test that the cuda backend refuses to run on top of it. */
__attribute__((visibility("default"))) int cuGetProcAddress_v2(const char* symbol, void** pfn, int version,
                                                               unsigned long long flags, int* status) {
  (void)symbol;
  (void)version;
  (void)flags;
  *pfn = 0;
  if (status) *status = 1; /* CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND */
  return 500;              /* CUDA_ERROR_NOT_FOUND */
}
