/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder entry point until the gateway lands. */
int main(void) { return 0; }
