/* Needs libkilnmissing.so, which does not exist at run time. */
int kiln_missing_fn(void);
int main(void) {
    return kiln_missing_fn();
}
