package org.backhippain.cds.service;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** Back & Hip Pain CDS: a CDS Hooks 2.0 service. */
@SpringBootApplication
@ConfigurationPropertiesScan
@org.springframework.scheduling.annotation.EnableScheduling
public class CdsApplication {
  public static void main(String[] args) {
    SpringApplication.run(CdsApplication.class, args);
  }
}
