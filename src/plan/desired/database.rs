//! Desired state of the database: its private network, security group, subnet group and
//! RDS instance.

use super::*;

impl Builder<'_> {
    /// The database: private subnets and their route table (no way out), its security group
    /// (5432 from the services that use it), subnet group and instance.
    pub(super) fn database(&mut self) {
        let (stack, facts) = (self.stack, self.facts);
        let Some(db) = &stack.database else {
            return;
        };
        let cidrs = stack.network.private_cidrs();
        let subnets: Vec<Key> = (0..cidrs.len()).map(private_subnet).collect();
        for (i, cidr) in cidrs.iter().enumerate() {
            let spec = aws::subnet::Spec {
                cidr: cidr.to_string(),
                az: facts.zones.get(i).cloned().unwrap_or_default(),
                vpc: vpc(),
                public: false,
            };
            self.push(
                private_subnet(i),
                self.n.private_subnet(i),
                Spec::Subnet(spec),
            );
        }
        let spec = aws::route_table::Spec {
            vpc: vpc(),
            gateway: None,
            subnets: subnets.clone(),
        };
        let name = self.n.private_route_table();
        self.push(private_route_table(), name, Spec::RouteTable(spec));
        let port = aws::db_instance::PORT;
        let spec = aws::security_group::Spec {
            vpc: vpc(),
            description: self.describe("database"),
            ingress: db
                .services
                .iter()
                .map(|s| tcp(port, Peer::Group(service_sg(s))))
                .collect(),
        };
        self.push(
            db_sg(),
            self.n.db_security_group(),
            Spec::SecurityGroup(spec),
        );
        let spec = aws::db_subnet_group::Spec {
            description: self.describe("database subnets"),
            subnets,
        };
        let name = self.n.db_subnet_group();
        self.push(db_subnet_group(), name, Spec::DbSubnetGroup(spec));
        let spec = aws::db_instance::Spec {
            version: db.version.clone(),
            size: db.size.clone(),
            storage_gb: db.storage_gb as i32,
            backup_days: db.backup_days as i32,
            multi_az: db.multi_az,
            deletion_protection: db.deletion_protection,
            db_name: db.name.clone(),
            user: db.user.clone(),
            subnet_group: db_subnet_group(),
            security_group: db_sg(),
            snapshot: db.snapshot.clone(),
            apply_now: db.apply_now,
        };
        self.push(db_instance(), self.n.db_instance(), Spec::DbInstance(spec));
    }
}
