package org.backhippain.cds.service;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

/** A clock the tests set to each case's fixed evaluation date. */
public final class TestClock extends Clock {
  private volatile Instant now = Instant.parse("2026-06-15T12:00:00Z");

  public void set(LocalDate date) {
    now = date.atTime(12, 0).toInstant(ZoneOffset.UTC);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return now;
  }

  @TestConfiguration(proxyBeanMethods = false)
  public static class Config {
    @Bean
    @Primary
    TestClock testClock() {
      return new TestClock();
    }

    /**
     * Name lookups for FHIR servers: {@value ServiceTest#REBOUND_HOST} resolves to 127.0.0.1 (a
     * listed name that DNS points at loopback), every other name as the system resolves it.
     */
    @Bean
    @Primary
    org.apache.http.conn.DnsResolver testDnsResolver() {
      return host ->
          ServiceTest.REBOUND_HOST.equals(host)
              ? new java.net.InetAddress[] {
                java.net.InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})
              }
              : org.apache.http.impl.conn.SystemDefaultDnsResolver.INSTANCE.resolve(host);
    }
  }
}
