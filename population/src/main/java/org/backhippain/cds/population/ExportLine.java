package org.backhippain.cds.population;

import java.io.Serializable;

/**
 * One resource of the export on its way to its group (a Java bean for Spark's encoder): the group
 * key (a patient id; {@code Organization/<id>} for an organisation; a medication id on the way to
 * the medication join), the resource's JSON, and where it came from (for bad-input reports).
 */
public class ExportLine implements Serializable {
  /** A resource of the patient named by the key (or the organisation, for {@code ORG}). */
  public static final String RESOURCE = "resource";

  /** A Medication, keyed by its id, waiting for the requests that name it. */
  public static final String MEDICATION = "medication";

  /**
   * A MedicationRequest's reference to a Medication, keyed by the Medication id; json = patient.
   */
  public static final String NEEDS_MEDICATION = "needs-medication";

  private String key;
  private String kind;
  private String type;
  private String json;
  private int file;
  private long position;

  public ExportLine() {}

  ExportLine(String key, String kind, String type, String json, int file, long position) {
    this.key = key;
    this.kind = kind;
    this.type = type;
    this.json = json;
    this.file = file;
    this.position = position;
  }

  public String getKey() {
    return key;
  }

  public void setKey(String key) {
    this.key = key;
  }

  public String getKind() {
    return kind;
  }

  public void setKind(String kind) {
    this.kind = kind;
  }

  public String getType() {
    return type;
  }

  public void setType(String type) {
    this.type = type;
  }

  public String getJson() {
    return json;
  }

  public void setJson(String json) {
    this.json = json;
  }

  /** The input file's index in the run's {@link InputPlan}. */
  public int getFile() {
    return file;
  }

  public void setFile(int file) {
    this.file = file;
  }

  /** Byte offset of the line (NDJSON) or entry index (Bundle) within the file. */
  public long getPosition() {
    return position;
  }

  public void setPosition(long position) {
    this.position = position;
  }
}
