/* Built into a shared library that is deleted after linking, so the
   program that needs it cannot be packed: kiln run must name it. */
int kiln_missing_fn(void) {
    return 1;
}
