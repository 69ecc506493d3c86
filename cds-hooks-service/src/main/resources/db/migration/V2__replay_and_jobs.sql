-- The jti replay store, shared by every instance, and a lock so that one instance at a time runs a
-- scheduled job (retention).

CREATE TABLE jwt_replay (
  issuer     VARCHAR(255) NOT NULL,
  jti        VARCHAR(255) NOT NULL,
  expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
  PRIMARY KEY (issuer, jti)
);
CREATE INDEX jwt_replay_expires_at ON jwt_replay (expires_at);

CREATE TABLE job_lock (
  name         VARCHAR(64)  PRIMARY KEY,
  locked_until TIMESTAMP WITH TIME ZONE NOT NULL,
  owner        VARCHAR(64)  NOT NULL
);
INSERT INTO job_lock (name, locked_until, owner) VALUES ('retention', TIMESTAMP '1970-01-01 00:00:00', 'none');
