CREATE TABLE `pod_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pod_uid` text NOT NULL,
	`container` text NOT NULL,
	`attempt` integer NOT NULL,
	`time` text NOT NULL,
	`stream` text NOT NULL,
	`line` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pod_logs_container` ON `pod_logs` (`pod_uid`,`container`,`attempt`,`id`);