package org.backhippain.cds.fhir;

/**
 * Which prefetched resources some rule can read, by resource type and code: the loader skips the
 * rest of a prefetched search before HAPI parses it ({@link PrefetchReader}). The answer comes from
 * the compiled content (its retrieves' types and code filters), never from a list in Java; this
 * module only asks.
 */
public interface ResourceSelection {
  /**
   * True when a resource of this type is read whatever its code (a retrieve without a code filter,
   * or one filtering on another element than {@code code}).
   */
  boolean readsEvery(String resourceType);

  /**
   * True when some retrieve of this type can match a resource whose {@code code} has this coding.
   *
   * @param system the coding's system; {@code null} when it has none
   */
  boolean reads(String resourceType, String system, String code);

  /** Every resource is read: nothing is skipped. */
  ResourceSelection EVERY =
      new ResourceSelection() {
        @Override
        public boolean readsEvery(String resourceType) {
          return true;
        }

        @Override
        public boolean reads(String resourceType, String system, String code) {
          return true;
        }
      };
}
