// Builds the cached arm64 test image before the integration tests, so no test
// timeout has to cover it. Where it cannot be built, the tests that need it
// print why and skip.
import { ensureTestImage, testImageUnavailable } from './test-image';

export default function setup(): void {
  const why = testImageUnavailable();
  if (why) {
    console.warn(`SKIPPED real-image tests: ${why}`);
    return;
  }
  ensureTestImage();
}
